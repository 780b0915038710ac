package qbo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// The services share generic implementations; every method is typed by its
// entity, so call sites read c.Invoices.Create(ctx, inv, opts) -> *Invoice.
//
//   readService     Get, Query, QueryAll, All, Count
//   writeService    + Create, Update, SparseUpdate
//   txnService      + Delete                (transactions)
//   nameListService + Deactivate            (Customer, Item, Account, PaymentMethod)
//
// Entity-specific void forms live on the concrete services.

type readService[T any] struct {
	client *Client
	name   string // JSON key and query entity, e.g. "SalesReceipt"
}

func (s *readService[T]) path() string { return lowerASCII(s.name) }

type writeService[T any] struct{ readService[T] }

type txnService[T any] struct{ writeService[T] }

type nameListService[T any] struct{ writeService[T] }

func newTxn[T any](c *Client, name string) txnService[T] {
	return txnService[T]{writeService[T]{readService[T]{c, name}}}
}

func newNameList[T any](c *Client, name string) nameListService[T] {
	return nameListService[T]{writeService[T]{readService[T]{c, name}}}
}

// SalesReceiptsService handles SalesReceipt.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/salesreceipt
type SalesReceiptsService struct{ txnService[SalesReceipt] }

// InvoicesService handles Invoice.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice
type InvoicesService struct{ txnService[Invoice] }

// RefundReceiptsService handles RefundReceipt.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/refundreceipt
type RefundReceiptsService struct{ txnService[RefundReceipt] }

// PaymentsService handles Payment.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/payment
type PaymentsService struct{ txnService[Payment] }

// CustomersService handles Customer.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer
type CustomersService struct{ nameListService[Customer] }

// ItemsService handles Item.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/item
type ItemsService struct{ nameListService[Item] }

// AccountsService handles Account.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/account
type AccountsService struct{ nameListService[Account] }

// PaymentMethodsService handles PaymentMethod.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/paymentmethod
type PaymentMethodsService struct{ nameListService[PaymentMethod] }

// TaxCodesService reads TaxCode (read-only in the API).
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/taxcode
type TaxCodesService struct{ readService[TaxCode] }

// Get reads the entity with the given Id. It returns an *Error for which
// IsNotFound is true if QBO has no such entity.
func (s *readService[T]) Get(ctx context.Context, id string) (*T, *Response, error) {
	if id == "" {
		return nil, nil, &ValidationError{Field: "Id", Msg: "empty"}
	}
	req, err := s.client.NewRequest(ctx, http.MethodGet, s.path()+"/"+url.PathEscape(id), nil, nil)
	if err != nil {
		return nil, nil, err
	}
	v, resp, err := doEntity[T](s.client, req, s.name)
	if err != nil {
		return nil, resp, fmt.Errorf("get %s %s: %w", s.name, id, err)
	}
	return v, resp, nil
}

// Create creates v and returns QBO's copy (with Id and SyncToken). opts must
// carry a RequestID (see RequestOptions); a *ValidationError is returned
// before sending otherwise.
func (s *writeService[T]) Create(ctx context.Context, v *T, opts *RequestOptions) (*T, *Response, error) {
	out, resp, err := s.post(ctx, v, nil, opts, "")
	if err != nil {
		return nil, resp, fmt.Errorf("create %s: %w", s.name, err)
	}
	return out, resp, nil
}

// Update is a full update: every writable field absent from v is cleared by
// QBO. v must carry Id and the current SyncToken; a stale one yields an
// *Error for which IsStaleObject is true.
func (s *writeService[T]) Update(ctx context.Context, v *T, opts *RequestOptions) (*T, *Response, error) {
	out, resp, err := s.post(ctx, v, nil, opts, "full")
	if err != nil {
		return nil, resp, fmt.Errorf("update %s: %w", s.name, err)
	}
	return out, resp, nil
}

// SparseUpdate changes only the fields set in v (it sends "sparse": true).
// v must carry Id and the current SyncToken.
func (s *writeService[T]) SparseUpdate(ctx context.Context, v *T, opts *RequestOptions) (*T, *Response, error) {
	out, resp, err := s.post(ctx, v, nil, opts, "sparse")
	if err != nil {
		return nil, resp, fmt.Errorf("sparse update %s: %w", s.name, err)
	}
	return out, resp, nil
}

// post sends v to /{entity}. mode "" is a create, "full" a full update and
// "sparse" a sparse update; the latter two require Id and SyncToken.
func (s *writeService[T]) post(ctx context.Context, v any, query url.Values, opts *RequestOptions, mode string) (*T, *Response, error) {
	rid, err := validateRequestID(opts, MaxRequestIDLen)
	if err != nil {
		return nil, nil, err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("encode: %w", err)
	}
	if mode != "" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, nil, fmt.Errorf("encode: %w", err)
		}
		if len(m["Id"]) == 0 || len(m["SyncToken"]) == 0 {
			return nil, nil, &ValidationError{Field: "Id/SyncToken", Msg: "an update needs both"}
		}
		if mode == "sparse" {
			m["sparse"] = json.RawMessage("true")
		} else {
			delete(m, "sparse")
		}
		if body, err = json.Marshal(m); err != nil {
			return nil, nil, fmt.Errorf("encode: %w", err)
		}
	}
	q := url.Values{}
	for k, vs := range query {
		q[k] = vs
	}
	q.Set("requestid", rid)
	req, err := s.client.NewRequest(ctx, http.MethodPost, s.path(), q, body)
	if err != nil {
		return nil, nil, err
	}
	return doEntity[T](s.client, req, s.name)
}

// idToken is the minimal body of void and delete requests.
type idToken struct {
	Id        string `json:"Id"`
	SyncToken string `json:"SyncToken"`
	Sparse    bool   `json:"sparse,omitempty"`
}

func checkIDToken(id, syncToken string) error {
	if id == "" || syncToken == "" {
		return &ValidationError{Field: "Id/SyncToken", Msg: "both are required"}
	}
	return nil
}

// Delete deletes the transaction (POST ?operation=delete with {Id,
// SyncToken}). QBO answers with a stub whose Status is "Deleted". Linked
// transactions must be unlinked first.
func (s *txnService[T]) Delete(ctx context.Context, id, syncToken string, opts *RequestOptions) (*T, *Response, error) {
	if err := checkIDToken(id, syncToken); err != nil {
		return nil, nil, err
	}
	out, resp, err := s.post(ctx, idToken{Id: id, SyncToken: syncToken}, url.Values{"operation": {"delete"}}, opts, "")
	if err != nil {
		return nil, resp, fmt.Errorf("delete %s %s: %w", s.name, id, err)
	}
	return out, resp, nil
}

// voidIncludeVoid is the SDK-common void form for SalesReceipt and Payment:
// a sparse update with include=void.
func (s *txnService[T]) voidIncludeVoid(ctx context.Context, id, syncToken string, opts *RequestOptions) (*T, *Response, error) {
	if err := checkIDToken(id, syncToken); err != nil {
		return nil, nil, err
	}
	q := url.Values{"operation": {"update"}, "include": {"void"}}
	out, resp, err := s.post(ctx, idToken{Id: id, SyncToken: syncToken, Sparse: true}, q, opts, "")
	if err != nil {
		return nil, resp, fmt.Errorf("void %s %s: %w", s.name, id, err)
	}
	return out, resp, nil
}

// Void voids the invoice (POST invoice?operation=void with {Id, SyncToken}):
// it stays in QBO with zero amounts.
func (s *InvoicesService) Void(ctx context.Context, id, syncToken string, opts *RequestOptions) (*Invoice, *Response, error) {
	if err := checkIDToken(id, syncToken); err != nil {
		return nil, nil, err
	}
	out, resp, err := s.post(ctx, idToken{Id: id, SyncToken: syncToken}, url.Values{"operation": {"void"}}, opts, "")
	if err != nil {
		return nil, resp, fmt.Errorf("void %s %s: %w", s.name, id, err)
	}
	return out, resp, nil
}

// Void voids the sales receipt (POST salesreceipt?operation=update&include=void
// with a sparse {Id, SyncToken}), as python-quickbooks and quickbooks-ruby do.
func (s *SalesReceiptsService) Void(ctx context.Context, id, syncToken string, opts *RequestOptions) (*SalesReceipt, *Response, error) {
	return s.voidIncludeVoid(ctx, id, syncToken, opts)
}

// Void voids the payment (POST payment?operation=update&include=void with a
// sparse {Id, SyncToken}).
func (s *PaymentsService) Void(ctx context.Context, id, syncToken string, opts *RequestOptions) (*Payment, *Response, error) {
	return s.voidIncludeVoid(ctx, id, syncToken, opts)
}

// Void voids the refund receipt. No public source establishes the
// RefundReceipt void form (docs/qbo-notes.md §1.2); python-quickbooks would send
// ?operation=void, while Intuit's own Java SDK (DataService.prepareVoidRequest)
// sends include=void for every entity. We follow Intuit's SDK, i.e. the same
// ?operation=update&include=void sparse form as SalesReceipt. Verify in a
// sandbox before relying on it; Delete is the established alternative.
func (s *RefundReceiptsService) Void(ctx context.Context, id, syncToken string, opts *RequestOptions) (*RefundReceipt, *Response, error) {
	return s.voidIncludeVoid(ctx, id, syncToken, opts)
}

// Deactivate makes a name-list entity inactive (sparse update Active=false);
// QBO never deletes customers, items, accounts or payment methods.
func (s *nameListService[T]) Deactivate(ctx context.Context, id, syncToken string, opts *RequestOptions) (*T, *Response, error) {
	if err := checkIDToken(id, syncToken); err != nil {
		return nil, nil, err
	}
	body := struct {
		idToken
		Active bool `json:"Active"`
	}{idToken{Id: id, SyncToken: syncToken, Sparse: true}, false}
	out, resp, err := s.post(ctx, body, nil, opts, "")
	if err != nil {
		return nil, resp, fmt.Errorf("deactivate %s %s: %w", s.name, id, err)
	}
	return out, resp, nil
}

// doEntity sends req and unwraps {"<name>": {...}, "time": ...}.
func doEntity[T any](c *Client, req *http.Request, name string) (*T, *Response, error) {
	var env map[string]json.RawMessage
	resp, err := c.Do(req, &env)
	if err != nil {
		return nil, resp, err
	}
	raw, ok := env[name]
	if !ok {
		return nil, resp, fmt.Errorf("qbo: response has no %s object (intuit_tid=%s)", name, resp.IntuitTID)
	}
	out := new(T)
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, resp, fmt.Errorf("qbo: decode %s: %w (intuit_tid=%s)", name, err, resp.IntuitTID)
	}
	return out, resp, nil
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// CompanyInfo reads the connected company's CompanyInfo.
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/companyinfo
func (c *Client) CompanyInfo(ctx context.Context) (*CompanyInfo, *Response, error) {
	req, err := c.NewRequest(ctx, http.MethodGet, "companyinfo/"+url.PathEscape(c.realmID), nil, nil)
	if err != nil {
		return nil, nil, err
	}
	v, resp, err := doEntity[CompanyInfo](c, req, "CompanyInfo")
	if err != nil {
		return nil, resp, fmt.Errorf("get company info: %w", err)
	}
	return v, resp, nil
}

// Preferences reads the company Preferences (home currency, multi-currency,
// custom transaction numbers, ...).
// QBO API docs: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/preferences
func (c *Client) Preferences(ctx context.Context) (*Preferences, *Response, error) {
	req, err := c.NewRequest(ctx, http.MethodGet, "preferences", nil, nil)
	if err != nil {
		return nil, nil, err
	}
	v, resp, err := doEntity[Preferences](c, req, "Preferences")
	if err != nil {
		return nil, resp, fmt.Errorf("get preferences: %w", err)
	}
	return v, resp, nil
}
