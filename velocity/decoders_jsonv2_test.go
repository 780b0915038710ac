//go:build goexperiment.jsonv2

package velocity

import jsonv2 "encoding/json/v2"

// With GOEXPERIMENT=jsonv2, "encoding-json" runs on the v2 engine and
// encoding/json/v2 itself is there to measure.
func init() {
	orderDecoders = append(orderDecoders, orderDecoder{"encoding-json-v2", unmarshalWith(func(b []byte, v any) error { return jsonv2.Unmarshal(b, v) })})
}
