package qbotest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// MaxBatchItems is the largest batch QBO accepts.
const MaxBatchItems = 30

// runBatch executes a batch with s.mu held. Items run in order, each as if
// sent on its own; a failing item faults alone.
func (s *Server) runBatch(body []byte) (map[string]any, *fault) {
	m, f := decodeEntity(body)
	if f != nil {
		return nil, f
	}
	items, ok := m["BatchItemRequest"].([]any)
	if !ok {
		return nil, faultRequired("BatchItemRequest")
	}
	if len(items) > MaxBatchItems {
		return nil, validationFault("6000", "A business validation error has occurred while processing your request",
			fmt.Sprintf("Business Validation Error: Batch request has %d items; the maximum is %d", len(items), MaxBatchItems), "BatchItemRequest")
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		item := obj(it)
		bID := str(item["bId"])
		res := map[string]any{"bId": bID}
		key, val, f := s.runBatchItem(item)
		if f != nil {
			res["Fault"] = f.object()
		} else {
			res[key] = val
		}
		out = append(out, res)
	}
	return map[string]any{"BatchItemResponse": out}, nil
}

// IgnoreBatchVoidOption makes a batch item's optionsData "void" ignored,
// so that the item runs as a plain sparse update and answers the live
// document: how QBO would behave if it did not honour optionsData in a
// batch, which no public source settles. Single requests are unchanged.
func (s *Server) IgnoreBatchVoidOption(on bool) { s.ignoreBatchVoid.Store(on) }

func (s *Server) runBatchItem(item map[string]any) (string, any, *fault) {
	if item == nil {
		return "", nil, faultRequired("BatchItemRequest")
	}
	if q, ok := item["Query"]; ok {
		out, f := s.runQuery(str(q))
		return "QueryResponse", out, f
	}
	var entity string
	var body map[string]any
	for k, v := range item {
		if e, ok := canonicalEntity(k); ok && e == k {
			entity, body = e, obj(v)
		}
	}
	if entity == "" || body == nil {
		return "", nil, faultRequired("BatchItemRequest.<Entity>")
	}
	// An item runs as the single request it stands for: operation is the
	// URL's ?operation= and optionsData its include=, so a batch accepts
	// and refuses the same void forms as the single endpoints (operation
	// "void" voids an Invoice or RefundReceipt, never a SalesReceipt or a
	// Payment, which void by an update with optionsData "void").
	include := str(item["optionsData"])
	if include == "void" && s.ignoreBatchVoid.Load() {
		include = ""
	}
	q := url.Values{}
	op := strings.ToLower(str(item["operation"]))
	switch op {
	case "create", "update":
	case "delete", "void":
		q.Set("operation", op)
	case "":
		return "", nil, faultRequired("BatchItemRequest.operation")
	default:
		return "", nil, faultUnsupported(op)
	}
	q.Set("include", include)
	op = writeOperation(q.Get("operation"), include, op != "create")
	out, f := s.write(entity, op, q, body)
	return entity, out, f
}

// WriteItem is one write a call carried: Operation is "create", "update",
// "void" or "delete".
type WriteItem struct {
	Operation, Entity, ID string
}

// Writes returns the writes c carried, whether they were executed or not:
// c itself for a single write, each write item of a batch in order
// (queries left out, a void in either batch form as "void"), none for
// any other call.
func (c Call) Writes() []WriteItem {
	switch c.Operation {
	case "create", "update", "void", "delete":
		return []WriteItem{{Operation: c.Operation, Entity: c.Entity, ID: c.ID}}
	case "batch":
	default:
		return nil
	}
	var body struct {
		BatchItemRequest []map[string]json.RawMessage
	}
	if json.Unmarshal(c.Body, &body) != nil {
		return nil
	}
	var out []WriteItem
	for _, it := range body.BatchItemRequest {
		var op, opts string
		if json.Unmarshal(it["operation"], &op) != nil {
			continue
		}
		_ = json.Unmarshal(it["optionsData"], &opts)
		op = strings.ToLower(op)
		q := ""
		if op == "delete" || op == "void" {
			q = op
		}
		for k, v := range it {
			if e, ok := canonicalEntity(k); ok && e == k {
				var head struct {
					ID string `json:"Id"`
				}
				_ = json.Unmarshal(v, &head)
				out = append(out, WriteItem{Operation: writeOperation(q, opts, op != "create"), Entity: e, ID: head.ID})
			}
		}
	}
	return out
}

// runCDC answers a change-data-capture request with s.mu held.
func (s *Server) runCDC(q url.Values) (map[string]any, *fault) {
	names := q.Get("entities")
	if names == "" {
		return nil, faultRequired("entities")
	}
	since, ok := parseTimeFlex(q.Get("changedSince"))
	if !ok {
		return nil, faultRequired("changedSince")
	}
	if since.Before(s.now().Add(-30 * 24 * time.Hour)) {
		return nil, validationFault("4001", "Invalid query",
			"QueryValidationError: changedSince may be at most 30 days in the past", "changedSince")
	}
	var responses []any
	total := 0
	for n := range strings.SplitSeq(names, ",") {
		entity, ok := canonicalEntity(strings.TrimSpace(n))
		if !ok {
			return nil, faultInvalidQuery(fmt.Sprintf("Entity %s is not supported by CDC", strings.TrimSpace(n)))
		}
		var rows []any
		for _, r := range s.st.sorted(entity) {
			if r.updated.Before(since) || total >= 1000 {
				continue
			}
			total++
			if r.deleted {
				rows = append(rows, map[string]any{
					"domain": "QBO", "status": "Deleted", "Id": str(r.data["Id"]),
					"MetaData": map[string]any{"LastUpdatedTime": timeStr(r.updated)},
				})
				continue
			}
			rows = append(rows, copyMap(r.data))
		}
		qr := map[string]any{}
		if len(rows) > 0 {
			qr = map[string]any{entity: rows, "startPosition": 1, "maxResults": len(rows), "totalCount": len(rows)}
		}
		responses = append(responses, qr)
	}
	return map[string]any{"CDCResponse": []any{map[string]any{"QueryResponse": responses}}}, nil
}
