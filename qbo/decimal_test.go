package qbo

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
)

func TestDecimal_MarshalJSON(t *testing.T) {
	tests := []struct {
		in   *Decimal
		want string
	}{
		{MustDecimal("19.99"), `{"Amount":19.99}`},
		{MustDecimal("0"), `{"Amount":0}`},
		{MustDecimal("-0.10"), `{"Amount":-0.1}`},
		{DecimalFromCents(1999), `{"Amount":19.99}`},
		{MustDecimal("123456789012345678.123456789"), `{"Amount":123456789012345678.123456789}`},
		{nil, `{}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(struct {
			Amount *Decimal `json:"Amount,omitempty"`
		}{tt.in})
		if err != nil {
			t.Fatalf("Marshal(%v): %v", tt.in, err)
		}
		if string(b) != tt.want {
			t.Errorf("Marshal(%v): got %s; want %s", tt.in, b, tt.want)
		}
	}
	if decimal.MarshalJSONWithoutQuotes {
		t.Errorf("shopspring global MarshalJSONWithoutQuotes was changed")
	}
}

func TestDecimal_UnmarshalJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"19.99", "19.99", false},
		{"0.1", "0.1", false},
		{`"6.50"`, "6.5", false},
		{"1e2", "100", false},
		{"-0.005", "-0.005", false},
		{"12345678901234567890.123456789", "12345678901234567890.123456789", false},
		{"true", "", true},
		{`"abc"`, "", true},
		{"{}", "", true},
		{"1e999999999", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Decimal
			err := json.Unmarshal([]byte(tt.in), &d)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal(%s): got err %v; want err %v", tt.in, err, tt.wantErr)
			}
			if err == nil && d.String() != tt.want {
				t.Errorf("Unmarshal(%s): got %s; want %s", tt.in, d.String(), tt.want)
			}
		})
	}
}

// TestDecimal_Exact shows the decode never goes through float64:
// 0.1 + 0.2 == 0.3 exactly, and a value beyond float64 precision survives.
func TestDecimal_Exact(t *testing.T) {
	var v struct{ A, B, C *Decimal }
	if err := json.Unmarshal([]byte(`{"A":0.1,"B":0.2,"C":9007199254740993.01}`), &v); err != nil {
		t.Fatal(err)
	}
	if sum := v.A.Add(v.B.Decimal); !sum.Equal(decimal.RequireFromString("0.3")) {
		t.Errorf("0.1+0.2: got %s; want 0.3", sum)
	}
	if got := v.C.String(); got != "9007199254740993.01" {
		t.Errorf("big: got %s; want 9007199254740993.01", got)
	}
	b, _ := json.Marshal(v)
	if want := `{"A":0.1,"B":0.2,"C":9007199254740993.01}`; string(b) != want {
		t.Errorf("round trip: got %s; want %s", b, want)
	}
	// null leaves pointers nil.
	var w struct{ A *Decimal }
	if err := json.Unmarshal([]byte(`{"A":null}`), &w); err != nil || w.A != nil {
		t.Errorf("null: got %v, %v; want nil, nil", w.A, err)
	}
	if got := Dec(nil); !got.IsZero() {
		t.Errorf("Dec(nil): got %s; want 0", got)
	}
}
