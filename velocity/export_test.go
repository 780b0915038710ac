package velocity

// FastDecodeCheck exposes the one-pass order decoder's check to the
// external tests, which generate data with velocitytest.
var FastDecodeCheck = fastDecodeCheck

// OrderDecoders returns the candidates BenchmarkDecodeExport measures.
func OrderDecoders() []orderDecoder { return orderDecoders }
