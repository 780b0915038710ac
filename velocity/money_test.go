package velocity

import (
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in      string
		want    string // decimal String(); "" when an error is expected
		wantErr string
	}{
		{in: "19.99", want: "19.99"},
		{in: "0", want: "0"},
		{in: "-5.00", want: "-5"},
		{in: "5.5", want: "5.5"},
		{in: "007.10", want: "7.1"},
		{in: "999999999999999.99", want: "999999999999999.99"},
		{in: "1.999", wantErr: "more than 2 decimal places"},
		{in: "1e3", wantErr: "not a decimal number"},
		{in: " 1", wantErr: "not a decimal number"},
		{in: "1 ", wantErr: "not a decimal number"},
		{in: "", wantErr: "empty"},
		{in: "+1", wantErr: "not a decimal number"},
		{in: "-", wantErr: "not a decimal number"},
		{in: ".5", wantErr: "not a decimal number"},
		{in: "5.", wantErr: "not a decimal number"},
		{in: "1,00", wantErr: "not a decimal number"},
		{in: "NaN", wantErr: "not a decimal number"},
		{in: "0x10", wantErr: "not a decimal number"},
		{in: "1.999x", wantErr: "not a decimal number"},
		{in: "1234567890123456", wantErr: "integer digits"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMoney(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMoney(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMoney(%q): got error %v; want %s", tt.in, err, tt.want)
			}
			if got.String() != tt.want {
				t.Errorf("ParseMoney(%q) = %s; want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"2", "2", true},
		{"0.5", "0.5", true},
		{"1.2345", "1.2345", true},
		{"0", "0", true}, // parses; validation requires > 0
		{"1.23456", "", false},
		{"-1", "", false},
		{"1e2", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseQuantity(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseQuantity(%q) error = %v; want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok && got.String() != tt.want {
				t.Errorf("ParseQuantity(%q) = %s; want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseMoney_exactSum(t *testing.T) {
	// 0.1 + 0.2 is the classic float64 failure; decimals must be exact.
	a, _ := ParseMoney("0.10")
	b, _ := ParseMoney("0.20")
	c, _ := ParseMoney("0.30")
	if !a.Add(b).Equal(c) {
		t.Errorf("0.10 + 0.20 = %s; want 0.30", a.Add(b))
	}
}
