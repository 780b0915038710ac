package qbotest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// handleAPI serves /v3/company/{realm}/... with s.mu held.
func (s *Server) handleAPI(resp *response, r *http.Request, c *Call, body []byte) {
	rest := strings.TrimPrefix(c.Path, "/v3/company/")
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || parts[1] == "" {
		s.faultResponse(resp, faultUnsupported("unknown"))
		return
	}
	seg := strings.ToLower(parts[1])
	q := r.URL.Query()
	switch seg {
	case "query":
		var text string
		switch r.Method {
		case http.MethodGet:
			text = q.Get("query")
		case http.MethodPost:
			text = string(body)
			if text == "" {
				text = q.Get("query")
			}
		default:
			s.faultResponse(resp, faultUnsupported(r.Method))
			return
		}
		out, f := s.runQuery(text)
		if f != nil {
			s.faultResponse(resp, f)
			return
		}
		resp.json(http.StatusOK, s.stamp(map[string]any{"QueryResponse": out}))
		return
	case "batch":
		if r.Method != http.MethodPost {
			s.faultResponse(resp, faultUnsupported(r.Method))
			return
		}
		out, f := s.runBatch(body)
		if f != nil {
			s.faultResponse(resp, f)
			return
		}
		resp.json(http.StatusOK, s.stamp(out))
		return
	case "cdc":
		if r.Method != http.MethodGet {
			s.faultResponse(resp, faultUnsupported(r.Method))
			return
		}
		out, f := s.runCDC(q)
		if f != nil {
			s.faultResponse(resp, f)
			return
		}
		resp.json(http.StatusOK, s.stamp(out))
		return
	}
	entity, ok := pathEntities[seg]
	if !ok {
		s.faultResponse(resp, faultUnsupported(parts[1]))
		return
	}
	switch r.Method {
	case http.MethodGet:
		id := ""
		if len(parts) > 2 {
			id = parts[2]
		}
		if entity == "Preferences" {
			id = "1"
		}
		if entity == "CompanyInfo" && id == s.cfg.realm {
			id = "1"
		}
		rec := s.st.live(entity, id)
		if rec == nil || id == "" {
			s.faultResponse(resp, faultNotFound(""))
			return
		}
		resp.json(http.StatusOK, s.stamp(map[string]any{entity: copyMap(rec.data)}))
	case http.MethodPost:
		m, f := decodeEntity(body)
		if f != nil {
			s.faultResponse(resp, f)
			return
		}
		op := writeOperation(q.Get("operation"), q.Get("include"), m["Id"] != nil)
		out, f := s.write(entity, op, q, m)
		if f != nil {
			s.faultResponse(resp, f)
			return
		}
		resp.json(http.StatusOK, s.stamp(map[string]any{entity: out}))
	default:
		s.faultResponse(resp, faultUnsupported(r.Method))
	}
}

func decodeEntity(body []byte) (map[string]any, *fault) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, validationFault("2500", "Invalid Request",
			"Request has invalid or unsupported property: the body is not a JSON object", "")
	}
	return m, nil
}

// write runs a create, update, void or delete, with s.mu held. It returns
// the entity object for the response envelope.
func (s *Server) write(entity, op string, q url.Values, m map[string]any) (map[string]any, *fault) {
	switch entity {
	case "CompanyInfo", "Preferences", "TaxCode":
		return nil, faultUnsupported(strings.ToUpper(op[:1]) + op[1:])
	}
	if f, execute := s.takeWriteFault(op, entity, m); f != nil {
		if execute {
			_, _ = s.execWrite(entity, op, q, m)
		}
		return nil, f
	}
	return s.execWrite(entity, op, q, m)
}

func (s *Server) execWrite(entity, op string, q url.Values, m map[string]any) (map[string]any, *fault) {
	switch op {
	case "delete":
		return s.deleteTxn(entity, m)
	case "void":
		return s.voidTxn(entity, q, m)
	case "update":
		return s.update(entity, m, hasInclude(q.Get("include"), "allowduplicatedocnum"))
	default:
		return s.create(entity, m, hasInclude(q.Get("include"), "allowduplicatedocnum"))
	}
}

func (s *Server) create(entity string, m map[string]any, allowDup bool) (map[string]any, *fault) {
	m = copyMap(m)
	delete(m, "sparse")
	if f := s.validate(entity, m, "", allowDup); f != nil {
		return nil, f
	}
	if isSalesForm(entity) {
		if dn := str(m["DocNumber"]); dn == "" || dn == "AUTO_GENERATE" {
			// Custom transaction numbers are off: QBO numbers the document.
			s.st.nextDoc[entity]++
			m["DocNumber"] = strconv.Itoa(1000 + s.st.nextDoc[entity])
		}
	}
	id := s.st.newID(entity)
	now := timeStr(s.now())
	m["Id"] = id
	m["SyncToken"] = "0"
	m["domain"] = "QBO"
	m["sparse"] = false
	m["MetaData"] = map[string]any{"CreateTime": now, "LastUpdatedTime": now}
	s.fillDefaults(entity, m)
	rec := &record{data: m, updated: s.now()}
	s.compute(entity, rec)
	s.st.put(entity, id, rec)
	s.afterWrite(entity, nil, rec)
	return copyMap(rec.data), nil
}

// checkVersion finds the live record named by m.Id and checks m.SyncToken.
func (s *Server) checkVersion(entity string, m map[string]any) (*record, *fault) {
	id := str(m["Id"])
	if id == "" {
		return nil, faultRequired("Id")
	}
	rec := s.st.live(entity, id)
	if rec == nil {
		return nil, faultNotFound("Id")
	}
	if _, ok := m["SyncToken"]; !ok {
		return nil, faultRequired("SyncToken")
	}
	if str(m["SyncToken"]) != str(rec.data["SyncToken"]) {
		return nil, faultStale()
	}
	return rec, nil
}

func (s *Server) update(entity string, m map[string]any, allowDup bool) (map[string]any, *fault) {
	rec, f := s.checkVersion(entity, m)
	if f != nil {
		return nil, f
	}
	before := copyMap(rec.data)
	var merged map[string]any
	if sparse, _ := m["sparse"].(bool); sparse {
		// Sparse update: only the top-level fields sent are replaced.
		merged = copyMap(rec.data)
		for k, v := range copyMap(m) {
			merged[k] = v
		}
	} else {
		// Full update: anything writable that is left out is cleared.
		merged = copyMap(m)
	}
	merged["Id"] = rec.data["Id"]
	merged["domain"] = "QBO"
	merged["sparse"] = false
	if f := s.validate(entity, merged, str(rec.data["Id"]), allowDup); f != nil {
		return nil, f
	}
	s.fillDefaults(entity, merged)
	old := rec.data
	rec.data = merged
	s.bump(rec, old)
	s.compute(entity, rec)
	s.afterWrite(entity, before, rec)
	return copyMap(rec.data), nil
}

// bump advances SyncToken and LastUpdatedTime, keeping CreateTime from old.
func (s *Server) bump(rec *record, old map[string]any) {
	now := s.now()
	create := str(obj(old["MetaData"])["CreateTime"])
	rec.data["SyncToken"] = itoa(syncTokenOf(old) + 1)
	rec.data["MetaData"] = map[string]any{"CreateTime": create, "LastUpdatedTime": timeStr(now)}
	rec.updated = now
}

func (s *Server) voidTxn(entity string, q url.Values, m map[string]any) (map[string]any, *fault) {
	viaOperation := strings.EqualFold(q.Get("operation"), "void")
	switch entity {
	case "Invoice", "RefundReceipt":
	case "SalesReceipt", "Payment":
		// QBO voids these through an update with include=void only.
		if viaOperation {
			return nil, faultUnsupported("Void")
		}
	default:
		return nil, faultUnsupported("Void")
	}
	rec, f := s.checkVersion(entity, m)
	if f != nil {
		return nil, f
	}
	before := copyMap(rec.data)
	s.voidLocked(entity, rec)
	s.afterWrite(entity, before, rec)
	return copyMap(rec.data), nil
}

func (s *Server) voidLocked(entity string, rec *record) {
	old := copyMap(rec.data)
	rec.voided = true
	rec.data["PrivateNote"] = "Voided"
	s.bump(rec, old)
	s.compute(entity, rec)
}

func (s *Server) deleteTxn(entity string, m map[string]any) (map[string]any, *fault) {
	if !isTxn(entity) {
		return nil, faultUnsupported("Delete")
	}
	rec, f := s.checkVersion(entity, m)
	if f != nil {
		return nil, f
	}
	if entity == "Invoice" && len(s.paymentsFor(str(rec.data["Id"]))) > 0 {
		return nil, faultBusiness("This transaction is linked to a payment; unlink it before deleting it.", "")
	}
	before := copyMap(rec.data)
	rec.deleted = true
	rec.updated = s.now()
	s.afterWrite(entity, before, rec)
	return map[string]any{"status": "Deleted", "domain": "QBO", "Id": str(rec.data["Id"])}, nil
}

// afterWrite keeps invoices in step with the payments linked to them.
func (s *Server) afterWrite(entity string, before map[string]any, rec *record) {
	if entity != "Payment" {
		return
	}
	ids := map[string]bool{}
	for _, m := range []map[string]any{before, rec.data} {
		for _, id := range linkedInvoices(m) {
			ids[id] = true
		}
	}
	for id := range ids {
		inv := s.st.live("Invoice", id)
		if inv == nil {
			continue
		}
		was := copyMap(inv.data)
		s.compute("Invoice", inv)
		if str(was["Balance"]) != str(inv.data["Balance"]) || !sameJSON(was["LinkedTxn"], inv.data["LinkedTxn"]) {
			// Applying a payment changes the invoice, so QBO bumps its SyncToken.
			s.bump(inv, was)
		}
	}
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func linkedInvoices(m map[string]any) []string {
	var out []string
	for _, l := range list(m["Line"]) {
		for _, lt := range list(obj(l)["LinkedTxn"]) {
			if str(obj(lt)["TxnType"]) == "Invoice" {
				out = append(out, str(obj(lt)["TxnId"]))
			}
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
