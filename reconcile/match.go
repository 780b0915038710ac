package reconcile

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/velocity"
)

// QBOCustomer is a QBO customer as matching sees it.
type QBOCustomer struct {
	CustomerProfile
	Active bool
}

// QBOCustomerOf is c as matching sees it. A customer without the Active
// field is active (QBO omits it only on partial reads).
func QBOCustomerOf(c *qbo.Customer) QBOCustomer {
	return QBOCustomer{CustomerProfile: FromQBO(c), Active: c.Active == nil || *c.Active}
}

// QBOItem is a QBO item as matching sees it.
type QBOItem struct {
	ID, Name, SKU string
	Active        bool
}

// QBOItemOf is it as matching sees it. Categories cannot be sold, so they
// come back inactive and are never proposed.
func QBOItemOf(it *qbo.Item) QBOItem {
	q := QBOItem{ID: it.Id, Name: it.Name, Active: (it.Active == nil || *it.Active) && it.Type != qbo.ItemTypeCategory}
	if it.Sku != nil {
		q.SKU = *it.Sku
	}
	return q
}

// Proposal is one proposed link, or one Velocity record that could have
// been linked but is not, with the reason why.
//
// A proposal with a QBOID and no Conflict can be applied. One with a
// QBOID and a Conflict names a QBO record that another Velocity record
// also claims (or is already linked to): it is shown, never applied. One
// without a QBOID is an ambiguity: Candidates lists the QBO records that
// matched equally well.
type Proposal struct {
	VelocityID   string   `json:"velocity_id"`
	VelocityName string   `json:"velocity_name"`
	QBOID        string   `json:"qbo_id,omitempty"`
	QBOName      string   `json:"qbo_name,omitempty"`
	Reason       string   `json:"reason"`
	Conflict     string   `json:"conflict,omitempty"`
	Candidates   []string `json:"candidates,omitempty"`
}

// Applicable reports whether `match --apply` may save p.
func (p Proposal) Applicable() bool { return p.QBOID != "" && p.Conflict == "" }

// Reasons a proposal gives.
const (
	reasonEmail       = "same email %s"
	reasonCompany     = "same company name after normalising"
	reasonName        = "same name after normalising"
	reasonEmailName   = "same email %s and same name after normalising"
	reasonSKU         = "same SKU %s"
	reasonProductName = "same name"
)

// matchCandidate is one QBO record a Velocity record matched.
type matchCandidate struct{ id, name string }

// MatchCustomers proposes a QBO customer for each Velocity customer that
// existing (Velocity id -> QBO id) does not link yet, in the order of vel.
//
// Rules, first that finds someone wins:
//  1. the same email (trimmed, case-insensitive). When several QBO
//     customers share it, the one whose name also matches is proposed;
//     otherwise it is an ambiguity and nothing is proposed.
//  2. the same company, then the same person name, after NormaliseName,
//     against each QBO customer's DisplayName, CompanyName and
//     "GivenName FamilyName". Several candidates: an ambiguity.
//
// Inactive QBO customers are never proposed. A QBO customer proposed for
// two Velocity customers, or proposed while already linked to another,
// gets a Conflict on every such proposal.
func MatchCustomers(vel []CustomerProfile, qboCustomers []QBOCustomer, existing map[string]string) []Proposal {
	byEmail := map[string][]int{}
	byName := map[string][]int{}
	for i, q := range qboCustomers {
		if !q.Active || q.ID == "" {
			continue
		}
		if e := normEmail(q.Email); e != "" {
			byEmail[e] = append(byEmail[e], i)
		}
		for _, k := range qboNameKeys(q.CustomerProfile) {
			byName[k] = append(byName[k], i)
		}
	}
	cand := func(i int) matchCandidate { return matchCandidate{qboCustomers[i].ID, qboCustomers[i].Label()} }
	var out []Proposal
	for _, v := range vel {
		if _, linked := existing[v.ID]; linked || v.ID == "" {
			continue
		}
		p := Proposal{VelocityID: v.ID, VelocityName: velocityLabel(v)}
		if e := normEmail(v.Email); e != "" && len(byEmail[e]) > 0 {
			idx := byEmail[e]
			if len(idx) == 1 {
				out = append(out, proposeLink(p, cand(idx[0]), fmt.Sprintf(reasonEmail, e)))
				continue
			}
			// Several QBO customers share the email: the name decides, if it can.
			var named []int
			nameKeys := velocityNameKeys(v)
			for _, i := range idx {
				if shareKey(nameKeys, qboNameKeys(qboCustomers[i].CustomerProfile)) {
					named = append(named, i)
				}
			}
			if len(named) == 1 {
				out = append(out, proposeLink(p, cand(named[0]), fmt.Sprintf(reasonEmailName, e)))
				continue
			}
			out = append(out, ambiguousMatch(p, fmt.Sprintf(reasonEmail, e), "QBO customers", "share this email", idx, cand))
			continue
		}
		for _, k := range []struct{ key, reason string }{
			{NormaliseName(v.Company), reasonCompany},
			{NormaliseName(v.PersonName()), reasonName},
		} {
			idx := byName[k.key]
			if k.key == "" || len(idx) == 0 {
				continue
			}
			if len(idx) == 1 {
				out = append(out, proposeLink(p, cand(idx[0]), k.reason))
			} else {
				out = append(out, ambiguousMatch(p, k.reason, "QBO customers", "have this name", idx, cand))
			}
			break
		}
	}
	return flagConflicts(out, existing, "customer")
}

// MatchProducts proposes a QBO item for each Velocity product that
// existing does not link yet, in the order of vel: the same SKU (trimmed,
// case-insensitive), else the same name (trimmed, spaces collapsed,
// case-insensitive; QBO item names are unique that way). Several items
// with the SKU are an ambiguity. Inactive items and categories are never
// proposed; conflicts are flagged as for MatchCustomers.
func MatchProducts(vel []velocity.Product, items []QBOItem, existing map[string]string) []Proposal {
	bySKU := map[string][]int{}
	byName := map[string][]int{}
	for i, it := range items {
		if !it.Active || it.ID == "" {
			continue
		}
		if s := foldKey(it.SKU); s != "" {
			bySKU[s] = append(bySKU[s], i)
		}
		if n := foldKey(it.Name); n != "" {
			byName[n] = append(byName[n], i)
		}
	}
	cand := func(i int) matchCandidate { return matchCandidate{items[i].ID, items[i].Name} }
	var out []Proposal
	for _, v := range vel {
		if _, linked := existing[v.ID]; linked || v.ID == "" {
			continue
		}
		name := strings.TrimSpace(v.Name)
		if s := strings.TrimSpace(v.SKU); s != "" {
			name = s + " " + name
		}
		p := Proposal{VelocityID: v.ID, VelocityName: strings.TrimSpace(name)}
		if s := foldKey(v.SKU); s != "" && len(bySKU[s]) > 0 {
			reason := fmt.Sprintf(reasonSKU, strings.TrimSpace(v.SKU))
			if idx := bySKU[s]; len(idx) == 1 {
				out = append(out, proposeLink(p, cand(idx[0]), reason))
			} else {
				out = append(out, ambiguousMatch(p, reason, "QBO items", "have this SKU", idx, cand))
			}
			continue
		}
		if n := foldKey(v.Name); n != "" && len(byName[n]) > 0 {
			// Names are unique in QBO, but a fake or an export may not be.
			if idx := byName[n]; len(idx) == 1 {
				out = append(out, proposeLink(p, cand(idx[0]), reasonProductName))
			} else {
				out = append(out, ambiguousMatch(p, reasonProductName, "QBO items", "have this name", idx, cand))
			}
		}
	}
	return flagConflicts(out, existing, "item")
}

func proposeLink(p Proposal, c matchCandidate, reason string) Proposal {
	p.QBOID, p.QBOName, p.Reason = c.id, c.name, reason
	return p
}

func ambiguousMatch(p Proposal, reason, what, verb string, idx []int, cand func(int) matchCandidate) Proposal {
	p.Reason = reason
	ids := make([]string, len(idx))
	for j, i := range idx {
		ids[j] = cand(i).id
	}
	p.Candidates = ids
	p.Conflict = fmt.Sprintf("%d %s %s (%s): no link proposed", len(idx), what, verb, strings.Join(ids, ", "))
	return p
}

// flagConflicts marks every proposal whose QBO record is also proposed for
// another Velocity record, or already linked to one.
func flagConflicts(out []Proposal, existing map[string]string, noun string) []Proposal {
	linkedTo := map[string][]string{}
	for vid, qid := range existing {
		linkedTo[qid] = append(linkedTo[qid], vid)
	}
	proposedFor := map[string][]string{}
	for _, p := range out {
		if p.QBOID != "" {
			proposedFor[p.QBOID] = append(proposedFor[p.QBOID], p.VelocityID)
		}
	}
	for i := range out {
		p := &out[i]
		if p.QBOID == "" {
			continue
		}
		var notes []string
		if others := otherThan(proposedFor[p.QBOID], p.VelocityID); len(others) > 0 {
			notes = append(notes, fmt.Sprintf("QBO %s %s is also proposed for Velocity %s", noun, p.QBOID, strings.Join(others, ", ")))
		}
		if linked := linkedTo[p.QBOID]; len(linked) > 0 {
			sort.Strings(linked)
			notes = append(notes, fmt.Sprintf("QBO %s %s is already linked to Velocity %s", noun, p.QBOID, strings.Join(linked, ", ")))
		}
		p.Conflict = strings.Join(notes, "; ")
	}
	return out
}

func otherThan(ids []string, id string) []string {
	var out []string
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

func shareKey(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func velocityLabel(v CustomerProfile) string {
	name := v.PersonName()
	if c := strings.TrimSpace(v.Company); c != "" {
		if name == "" {
			return c
		}
		return c + " (" + name + ")"
	}
	if name == "" {
		return strings.TrimSpace(v.Email)
	}
	return name
}

func velocityNameKeys(v CustomerProfile) []string {
	return nameKeys(v.Company, v.PersonName())
}

func qboNameKeys(q CustomerProfile) []string {
	return nameKeys(q.DisplayName, q.Company, q.PersonName())
}

// nameKeys are the distinct non-empty normalised names of ss.
func nameKeys(ss ...string) []string {
	var out []string
	for _, s := range ss {
		k := NormaliseName(s)
		if k == "" || hasString(out, k) {
			continue
		}
		out = append(out, k)
	}
	return out
}

func hasString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// foldKey is s trimmed, with inner spaces collapsed, lower-cased.
func foldKey(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// companySuffixes are legal-form words dropped from the end of a name.
var companySuffixes = map[string]bool{
	"inc": true, "incorporated": true, "llc": true, "llp": true, "ltd": true, "limited": true,
	"co": true, "company": true, "corp": true, "corporation": true, "plc": true,
	"gmbh": true, "ag": true, "sa": true, "sarl": true, "bv": true, "pty": true,
}

// NormaliseName is the key names are matched by: lower-cased; '&' read as
// "and"; apostrophes and dots dropped ("O'Brien" = "OBrien", "Co." = "Co");
// other punctuation and symbols (emoji included) read as spaces; spaces
// collapsed; trailing legal forms (inc, llc, ltd, co, corp, gmbh, ...)
// dropped, unless nothing would be left. Letters of every script are kept
// as they are: "Café" and "Cafe" differ.
func NormaliseName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '&':
			b.WriteString(" and ")
		case r == '\'' || r == '’' || r == '.':
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	for len(words) > 1 && companySuffixes[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	return strings.Join(words, " ")
}
