package reconcile

import (
	"github.com/velqbo/velqbo/velocity"
)

// MapOrder computes the QBO documents that o should produce. It is pure: no
// I/O, no clock. (Work in progress.)
func MapOrder(o *velocity.Order, env *Env) *OrderDocs {
	return &OrderDocs{Order: o, Skip: "mapping not implemented yet"}
}
