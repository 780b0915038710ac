package velocity

import "encoding/json"

// orderDecoder is a candidate first decoder of an order line, for
// BenchmarkDecodeExport.
type orderDecoder struct {
	Name string
	wire func([]byte, *wireOrder) bool
}

// orderDecoders are the candidates BenchmarkDecodeExport measures (see
// BENCHMARKS.md, "Decoder decision (issue 9)"). A library is measured by
// adding it here, e.g. {"segmentio", unmarshalWith(segjson.Unmarshal)}.
var orderDecoders = []orderDecoder{
	{"fastjson", fastDecodeOrder},
	{"encoding-json", unmarshalWith(json.Unmarshal)},
}

func unmarshalWith(unmarshal func([]byte, any) error) func([]byte, *wireOrder) bool {
	return func(data []byte, w *wireOrder) bool { return unmarshal(data, w) == nil }
}

// DecodeWire decodes data into a wire order; ok is false when it fails.
func (d orderDecoder) DecodeWire(data []byte) (ok bool) {
	var w wireOrder
	return d.wire(data, &w)
}

// DecodeOrder is DecodeOrder with d as the first decoder.
func (d orderDecoder) DecodeOrder(data []byte) (*Order, error) {
	return decodeOrderWith(d.wire, data, 0)
}
