package qbo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxBatchItems is the most items one batch request may carry (Intuit's
// recommended maximum; python-quickbooks uses the same).
const MaxBatchItems = 30

// MaxBatchIDLen is the longest bId QBO accepts (docs/qbo-notes.md §3.1).
const MaxBatchIDLen = 10

// Batch operations (OperationEnum in Intuit's IntuitRestServiceDef.xsd).
const (
	BatchCreate = "create"
	BatchUpdate = "update"
	BatchDelete = "delete"
	BatchVoid   = "void"
)

// BatchVoidItem is the batch item that voids the transaction typ ("Invoice",
// "SalesReceipt", "Payment", "RefundReceipt") id at syncToken, in the form
// the single Void of that type uses (docs/qbo-notes.md §1.2, §1.4): an
// Invoice by operation "void" with {Id, SyncToken}; the others by a sparse
// {Id, SyncToken} update with optionsData "void" (the batch's spelling of
// include=void). It returns a *ValidationError for another type or a
// missing Id or SyncToken.
func BatchVoidItem(bid, typ, id, syncToken string) (BatchItem, error) {
	if err := checkIDToken(id, syncToken); err != nil {
		return BatchItem{}, err
	}
	switch typ {
	case "Invoice":
		return BatchItem{BID: bid, Operation: BatchVoid, Entity: &Invoice{Id: id, SyncToken: syncToken}}, nil
	case "SalesReceipt":
		return BatchItem{BID: bid, Operation: BatchUpdate, OptionsData: "void",
			Entity: &SalesReceipt{Id: id, SyncToken: syncToken, Sparse: true}}, nil
	case "Payment":
		return BatchItem{BID: bid, Operation: BatchUpdate, OptionsData: "void",
			Entity: &Payment{Id: id, SyncToken: syncToken, Sparse: true}}, nil
	case "RefundReceipt":
		return BatchItem{BID: bid, Operation: BatchUpdate, OptionsData: "void",
			Entity: &RefundReceipt{Id: id, SyncToken: syncToken, Sparse: true}}, nil
	}
	return BatchItem{}, &ValidationError{Field: "batch item " + bid, Msg: fmt.Sprintf("cannot void a %s", typ)}
}

// entityNames maps QBO's JSON key to a constructor, for decoding batch and
// CDC results into typed values.
var entityNames = map[string]func() any{
	"SalesReceipt":  func() any { return new(SalesReceipt) },
	"Invoice":       func() any { return new(Invoice) },
	"RefundReceipt": func() any { return new(RefundReceipt) },
	"Payment":       func() any { return new(Payment) },
	"Customer":      func() any { return new(Customer) },
	"Item":          func() any { return new(Item) },
	"Account":       func() any { return new(Account) },
	"PaymentMethod": func() any { return new(PaymentMethod) },
	"TaxCode":       func() any { return new(TaxCode) },
}

// idAndToken returns the Id and SyncToken of one of this package's
// transaction entities ("" for other types).
func idAndToken(v any) (string, string) {
	switch e := v.(type) {
	case *SalesReceipt:
		return e.Id, e.SyncToken
	case *Invoice:
		return e.Id, e.SyncToken
	case *RefundReceipt:
		return e.Id, e.SyncToken
	case *Payment:
		return e.Id, e.SyncToken
	case *Customer:
		return e.Id, e.SyncToken
	case *Item:
		return e.Id, e.SyncToken
	case *Account:
		return e.Id, e.SyncToken
	case *PaymentMethod:
		return e.Id, e.SyncToken
	case *TaxCode:
		return e.Id, e.SyncToken
	}
	return "", ""
}

func entityName(v any) (string, bool) {
	switch v.(type) {
	case *SalesReceipt:
		return "SalesReceipt", true
	case *Invoice:
		return "Invoice", true
	case *RefundReceipt:
		return "RefundReceipt", true
	case *Payment:
		return "Payment", true
	case *Customer:
		return "Customer", true
	case *Item:
		return "Item", true
	case *Account:
		return "Account", true
	case *PaymentMethod:
		return "PaymentMethod", true
	case *TaxCode:
		return "TaxCode", true
	}
	return "", false
}

// BatchItem is one operation of a batch. Set exactly one of Entity (a
// pointer to one of this package's entity types, with Operation) or Query.
// For a sparse update set the entity's Sparse field (an update or void
// without Id and SyncToken is refused before sending). OptionsData may be
// "void" or "allowduplicatedocnum". BatchVoidItem builds a void.
type BatchItem struct {
	BID         string // unique within the batch, at most 10 characters
	Operation   string // BatchCreate, BatchUpdate or BatchDelete
	OptionsData string
	Entity      any
	Query       string
}

func (b BatchItem) MarshalJSON() ([]byte, error) {
	m := map[string]any{"bId": b.BID}
	if b.Operation != "" {
		m["operation"] = b.Operation
	}
	if b.OptionsData != "" {
		m["optionsData"] = b.OptionsData
	}
	if b.Query != "" {
		m["Query"] = b.Query
	}
	if b.Entity != nil {
		name, ok := entityName(b.Entity)
		if !ok {
			return nil, fmt.Errorf("qbo: batch item %s: unsupported entity type %T", b.BID, b.Entity)
		}
		m[name] = b.Entity
	}
	return json.Marshal(m)
}

// BatchResult is the outcome of one BatchItem, matched by BID. Exactly one of
// Entity (e.g. *Invoice), QueryResponse, Err or Raw is set.
type BatchResult struct {
	BID           string
	Entity        any
	QueryResponse json.RawMessage
	Err           *Error
	// Raw is the whole item when it holds none of the above (an entity type
	// this package does not know): QBO did answer it, so it is no fault, but
	// nothing typed can be made of it.
	Raw json.RawMessage
}

// Batch sends up to MaxBatchItems operations in one request. The batch
// succeeds or fails as a whole at the HTTP level (the error is returned);
// individual items may still fault, reported in their BatchResult.Err, and
// an item of an unknown entity type comes back in BatchResult.Raw. Items
// run in order but cannot see each other's results. opts.RequestID (at most
// 36 characters) makes the whole batch idempotent. It returns a
// *ValidationError before sending for an empty or oversized batch, duplicate
// or overlong bIds, or items without an entity or query.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/batch
func (c *Client) Batch(ctx context.Context, items []BatchItem, opts *RequestOptions) ([]BatchResult, *Response, error) {
	rid, err := validateRequestID(opts, MaxBatchRequestIDLen)
	if err != nil {
		return nil, nil, err
	}
	if len(items) == 0 || len(items) > MaxBatchItems {
		return nil, nil, &ValidationError{Field: "batch", Msg: fmt.Sprintf("%d items; want 1..%d", len(items), MaxBatchItems)}
	}
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		switch {
		case it.BID == "" || len(it.BID) > MaxBatchIDLen:
			return nil, nil, &ValidationError{Field: "bId", Msg: fmt.Sprintf("%q must be 1..%d characters", it.BID, MaxBatchIDLen)}
		case seen[it.BID]:
			return nil, nil, &ValidationError{Field: "bId", Msg: fmt.Sprintf("%q is duplicated", it.BID)}
		case (it.Entity == nil) == (it.Query == ""):
			return nil, nil, &ValidationError{Field: "batch item " + it.BID, Msg: "set exactly one of Entity and Query"}
		case it.Entity != nil && it.Operation == "":
			return nil, nil, &ValidationError{Field: "batch item " + it.BID, Msg: "Operation is required with Entity"}
		}
		if it.Entity != nil {
			if _, ok := entityName(it.Entity); !ok {
				return nil, nil, &ValidationError{Field: "batch item " + it.BID, Msg: fmt.Sprintf("unsupported entity type %T", it.Entity)}
			}
			switch it.Operation {
			case BatchCreate:
			case BatchUpdate, BatchDelete, BatchVoid:
				if id, tok := idAndToken(it.Entity); id == "" || tok == "" {
					return nil, nil, &ValidationError{Field: "batch item " + it.BID, Msg: it.Operation + " needs Id and SyncToken"}
				}
			default:
				return nil, nil, &ValidationError{Field: "batch item " + it.BID, Msg: fmt.Sprintf("unsupported operation %q", it.Operation)}
			}
		}
		seen[it.BID] = true
	}
	body := struct {
		BatchItemRequest []BatchItem `json:"BatchItemRequest"`
	}{items}
	req, err := c.NewRequest(ctx, http.MethodPost, "batch", url.Values{"requestid": {rid}}, body)
	if err != nil {
		return nil, nil, err
	}
	var env struct {
		BatchItemResponse []json.RawMessage `json:"BatchItemResponse"`
	}
	resp, err := c.Do(req, &env)
	if err != nil {
		return nil, resp, fmt.Errorf("batch: %w", err)
	}
	results, err := decodeBatchItems(env.BatchItemResponse)
	if err != nil {
		return nil, resp, fmt.Errorf("batch: %w (intuit_tid=%s)", err, resp.IntuitTID)
	}
	return results, resp, nil
}

func decodeBatchItems(raws []json.RawMessage) ([]BatchResult, error) {
	out := make([]BatchResult, 0, len(raws))
	for _, raw := range raws {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("decode batch item: %w", err)
		}
		var r BatchResult
		if b, ok := m["bId"]; ok {
			if err := json.Unmarshal(b, &r.BID); err != nil {
				return nil, fmt.Errorf("decode batch item bId: %w", err)
			}
		}
		switch {
		case m["Fault"] != nil:
			var f Fault
			if err := json.Unmarshal(m["Fault"], &f); err != nil {
				return nil, fmt.Errorf("decode batch item %s fault: %w", r.BID, err)
			}
			r.Err = &Error{Type: f.Type, Errors: f.Errors}
		case m["QueryResponse"] != nil:
			r.QueryResponse = m["QueryResponse"]
		default:
			for name, newV := range entityNames {
				if b, ok := m[name]; ok {
					v := newV()
					if err := json.Unmarshal(b, v); err != nil {
						return nil, fmt.Errorf("decode batch item %s %s: %w", r.BID, name, err)
					}
					r.Entity = v
					break
				}
			}
			if r.Entity == nil {
				// One item QBO answered with something unexpected must not
				// cost the other items their answers.
				r.Raw = raw
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// CDCResult holds the entities changed since a point in time, typed per
// entity. Deleted entities appear with Status == StatusDeleted and little
// else. Other holds entity kinds this package does not type, raw.
type CDCResult struct {
	SalesReceipts  []SalesReceipt
	Invoices       []Invoice
	RefundReceipts []RefundReceipt
	Payments       []Payment
	Customers      []Customer
	Items          []Item
	Accounts       []Account
	PaymentMethods []PaymentMethod
	TaxCodes       []TaxCode
	Other          map[string][]json.RawMessage
}

// CDC returns the entities of the given kinds (e.g. "Invoice",
// "SalesReceipt") changed since changedSince. QBO looks back at most 30 days
// and returns at most 1000 objects per call; use shorter windows if more may
// have changed.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture
func (c *Client) CDC(ctx context.Context, entities []string, changedSince time.Time) (*CDCResult, *Response, error) {
	if len(entities) == 0 {
		return nil, nil, &ValidationError{Field: "entities", Msg: "at least one entity is required"}
	}
	q := url.Values{
		"entities":     {strings.Join(entities, ",")},
		"changedSince": {changedSince.Format(time.RFC3339)},
	}
	req, err := c.NewRequest(ctx, http.MethodGet, "cdc", q, nil)
	if err != nil {
		return nil, nil, err
	}
	var env cdcEnvelope
	resp, err := c.Do(req, &env)
	if err != nil {
		return nil, resp, fmt.Errorf("cdc: %w", err)
	}
	res, err := decodeCDC(&env)
	if err != nil {
		return nil, resp, fmt.Errorf("cdc: %w (intuit_tid=%s)", err, resp.IntuitTID)
	}
	return res, resp, nil
}

type cdcEnvelope struct {
	CDCResponse []struct {
		QueryResponse []map[string]json.RawMessage `json:"QueryResponse"`
	} `json:"CDCResponse"`
}

func decodeCDC(env *cdcEnvelope) (*CDCResult, error) {
	res := &CDCResult{}
	for _, cr := range env.CDCResponse {
		for _, qr := range cr.QueryResponse {
			for key, raw := range qr {
				var err error
				switch key {
				case "startPosition", "maxResults", "totalCount":
					continue
				case "SalesReceipt":
					err = appendJSON(raw, &res.SalesReceipts)
				case "Invoice":
					err = appendJSON(raw, &res.Invoices)
				case "RefundReceipt":
					err = appendJSON(raw, &res.RefundReceipts)
				case "Payment":
					err = appendJSON(raw, &res.Payments)
				case "Customer":
					err = appendJSON(raw, &res.Customers)
				case "Item":
					err = appendJSON(raw, &res.Items)
				case "Account":
					err = appendJSON(raw, &res.Accounts)
				case "PaymentMethod":
					err = appendJSON(raw, &res.PaymentMethods)
				case "TaxCode":
					err = appendJSON(raw, &res.TaxCodes)
				default:
					var list []json.RawMessage
					if err = json.Unmarshal(raw, &list); err == nil {
						if res.Other == nil {
							res.Other = map[string][]json.RawMessage{}
						}
						res.Other[key] = append(res.Other[key], list...)
					}
				}
				if err != nil {
					return nil, fmt.Errorf("decode %s: %w", key, err)
				}
			}
		}
	}
	return res, nil
}

func appendJSON[T any](raw json.RawMessage, dst *[]T) error {
	var list []T
	if err := json.Unmarshal(raw, &list); err != nil {
		return err
	}
	*dst = append(*dst, list...)
	return nil
}
