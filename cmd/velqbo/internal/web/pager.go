package web

import (
	"net/url"
	"strconv"
)

// pageNumber is the page of a list a request asks for (?page=N), at
// least 1.
func pageNumber(q url.Values) int {
	n, _ := strconv.Atoi(q.Get("page"))
	return max(n, 1)
}

// pageLinks are the links to the pages before and after page of the list
// at path with the query params (those with an empty value left out), ""
// where there is no such page; more says whether a next page has rows.
func pageLinks(path string, params url.Values, page int, more bool) (prev, next string) {
	link := func(p int) string {
		v := url.Values{}
		for k, vs := range params {
			if len(vs) > 0 && vs[0] != "" {
				v.Set(k, vs[0])
			}
		}
		if p > 1 {
			v.Set("page", strconv.Itoa(p))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if page > 1 {
		prev = link(page - 1)
	}
	if more {
		next = link(page + 1)
	}
	return prev, next
}
