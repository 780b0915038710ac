package bctest

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// The fake encodes BigCommerce's wire formats with its own types, never the
// client's: a mismatch between what the client expects and what the API
// sends then shows up as a failing test instead of agreeing with itself.

// rfc2822 is how the v2 API writes dates: "Tue, 05 Mar 2019 21:40:11 +0000",
// always UTC. The zero time is written "" (date_shipped before shipping).
type rfc2822 time.Time

const rfc2822Layout = "Mon, 02 Jan 2006 15:04:05 -0700"

func (t rfc2822) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(time.Time(t).UTC().Format(rfc2822Layout))
}

// iso is how the v3 API writes dates: RFC 3339 in UTC.
type iso time.Time

func (t iso) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(time.RFC3339))
}

// m4 is v2 money: a string with 4 decimal places ("62.6793").
type m4 decimal.Decimal

func (m m4) MarshalJSON() ([]byte, error) {
	return json.Marshal(decimal.Decimal(m).StringFixed(4))
}

// num is v3 money: a JSON number.
type num decimal.Decimal

func (n num) MarshalJSON() ([]byte, error) {
	return []byte(decimal.Decimal(n).String()), nil
}

// link is how v2 points at a sub-resource instead of embedding it.
type link struct {
	URL      string `json:"url"`
	Resource string `json:"resource"`
}

type wAddress struct {
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Company     string `json:"company"`
	Street1     string `json:"street_1"`
	Street2     string `json:"street_2"`
	City        string `json:"city"`
	State       string `json:"state"`
	Zip         string `json:"zip"`
	Country     string `json:"country"`
	CountryISO2 string `json:"country_iso2"`
	Phone       string `json:"phone"`
	Email       string `json:"email"`
}

// wOrder is a v2 order as GET /v2/orders[/{id}] returns it.
type wOrder struct {
	ID                      int        `json:"id"`
	CustomerID              int        `json:"customer_id"`
	DateCreated             rfc2822    `json:"date_created"`
	DateModified            rfc2822    `json:"date_modified"`
	DateShipped             rfc2822    `json:"date_shipped"`
	StatusID                int        `json:"status_id"`
	Status                  string     `json:"status"`
	CustomStatus            string     `json:"custom_status"`
	SubtotalExTax           m4         `json:"subtotal_ex_tax"`
	SubtotalIncTax          m4         `json:"subtotal_inc_tax"`
	SubtotalTax             m4         `json:"subtotal_tax"`
	BaseShippingCost        m4         `json:"base_shipping_cost"`
	ShippingCostExTax       m4         `json:"shipping_cost_ex_tax"`
	ShippingCostIncTax      m4         `json:"shipping_cost_inc_tax"`
	ShippingCostTax         m4         `json:"shipping_cost_tax"`
	ShippingCostTaxClassID  int        `json:"shipping_cost_tax_class_id"`
	BaseHandlingCost        m4         `json:"base_handling_cost"`
	HandlingCostExTax       m4         `json:"handling_cost_ex_tax"`
	HandlingCostIncTax      m4         `json:"handling_cost_inc_tax"`
	HandlingCostTax         m4         `json:"handling_cost_tax"`
	HandlingCostTaxClassID  int        `json:"handling_cost_tax_class_id"`
	BaseWrappingCost        m4         `json:"base_wrapping_cost"`
	WrappingCostExTax       m4         `json:"wrapping_cost_ex_tax"`
	WrappingCostIncTax      m4         `json:"wrapping_cost_inc_tax"`
	WrappingCostTax         m4         `json:"wrapping_cost_tax"`
	WrappingCostTaxClassID  int        `json:"wrapping_cost_tax_class_id"`
	TotalExTax              m4         `json:"total_ex_tax"`
	TotalIncTax             m4         `json:"total_inc_tax"`
	TotalTax                m4         `json:"total_tax"`
	ItemsTotal              int        `json:"items_total"`
	ItemsShipped            int        `json:"items_shipped"`
	PaymentMethod           string     `json:"payment_method"`
	PaymentProviderID       any        `json:"payment_provider_id"`
	PaymentStatus           string     `json:"payment_status"`
	RefundedAmount          m4         `json:"refunded_amount"`
	OrderIsDigital          bool       `json:"order_is_digital"`
	StoreCreditAmount       m4         `json:"store_credit_amount"`
	GiftCertificateAmount   m4         `json:"gift_certificate_amount"`
	CurrencyID              int        `json:"currency_id"`
	CurrencyCode            string     `json:"currency_code"`
	CurrencyExchangeRate    string     `json:"currency_exchange_rate"`
	DefaultCurrencyID       int        `json:"default_currency_id"`
	DefaultCurrencyCode     string     `json:"default_currency_code"`
	StoreDefaultCurrency    string     `json:"store_default_currency_code"`
	StaffNotes              string     `json:"staff_notes"`
	CustomerMessage         string     `json:"customer_message"`
	DiscountAmount          m4         `json:"discount_amount"`
	CouponDiscount          m4         `json:"coupon_discount"`
	ShippingAddressCount    int        `json:"shipping_address_count"`
	IsDeleted               bool       `json:"is_deleted"`
	IsTaxInclusivePricing   bool       `json:"is_tax_inclusive_pricing"`
	OrderSource             string     `json:"order_source"`
	ChannelID               int        `json:"channel_id"`
	BillingAddress          wAddress   `json:"billing_address"`
	Products                link       `json:"products"`
	ShippingAddresses       link       `json:"shipping_addresses"`
	Coupons                 link       `json:"coupons"`
	Fees                    []wFee     `json:"fees"`
	Consignments            *wConsigns `json:"consignments,omitempty"`
	ExternalSource          *string    `json:"external_source"`
	ExternalID              *string    `json:"external_id"`
	ExternalOrderID         string     `json:"external_order_id"`
	TaxProviderID           string     `json:"tax_provider_id"`
	CustomerLocale          string     `json:"customer_locale"`
	IPAddress               string     `json:"ip_address"`
	GeoIPCountry            string     `json:"geoip_country"`
	CartID                  string     `json:"cart_id"`
	StoreDefaultToTransRate string     `json:"store_default_to_transactional_exchange_rate"`
}

type wFee struct {
	ID                  int    `json:"id"`
	Type                string `json:"type"`
	DisplayNameCustomer string `json:"display_name_customer"`
	DisplayNameMerchant string `json:"display_name_merchant"`
	Source              string `json:"source"`
	BaseCost            m4     `json:"base_cost"`
	CostExTax           m4     `json:"cost_ex_tax"`
	CostIncTax          m4     `json:"cost_inc_tax"`
	CostTax             m4     `json:"cost_tax"`
	TaxClassID          int    `json:"tax_class_id"`
}

// wConsigns is the order's consignments with consignment_structure=object.
type wConsigns struct {
	Pickups   []any       `json:"pickups"`
	Shipping  []wConsShip `json:"shipping"`
	Downloads []any       `json:"downloads"`
	Email     wConsEmail  `json:"email"`
}

type wConsEmail struct {
	GiftCertificates []any `json:"gift_certificates"`
}

// wConsShip is a shipping consignment: the shipping address with, under
// include=consignments.line_items, its order products in full.
type wConsShip struct {
	wShippingAddress
	LineItems []wOrderProduct `json:"line_items"`
}

type wShippingAddress struct {
	ID                     int    `json:"id"`
	OrderID                int    `json:"order_id"`
	FirstName              string `json:"first_name"`
	LastName               string `json:"last_name"`
	Company                string `json:"company"`
	Street1                string `json:"street_1"`
	Street2                string `json:"street_2"`
	City                   string `json:"city"`
	State                  string `json:"state"`
	Zip                    string `json:"zip"`
	Country                string `json:"country"`
	CountryISO2            string `json:"country_iso2"`
	Phone                  string `json:"phone"`
	Email                  string `json:"email"`
	ItemsTotal             int    `json:"items_total"`
	ItemsShipped           int    `json:"items_shipped"`
	ShippingMethod         string `json:"shipping_method"`
	BaseCost               m4     `json:"base_cost"`
	CostExTax              m4     `json:"cost_ex_tax"`
	CostIncTax             m4     `json:"cost_inc_tax"`
	CostTax                m4     `json:"cost_tax"`
	CostTaxClassID         int    `json:"cost_tax_class_id"`
	BaseHandlingCost       m4     `json:"base_handling_cost"`
	HandlingCostExTax      m4     `json:"handling_cost_ex_tax"`
	HandlingCostIncTax     m4     `json:"handling_cost_inc_tax"`
	HandlingCostTax        m4     `json:"handling_cost_tax"`
	HandlingCostTaxClassID int    `json:"handling_cost_tax_class_id"`
	ShippingZoneID         int    `json:"shipping_zone_id"`
	ShippingZoneName       string `json:"shipping_zone_name"`
}

type wAppliedDiscount struct {
	ID     string `json:"id"`
	Amount m4     `json:"amount"`
	Name   string `json:"name"`
	Code   any    `json:"code"`
	Target string `json:"target"`
}

// wOrderProduct is one element of /v2/orders/{id}/products.
type wOrderProduct struct {
	ID                    int                `json:"id"`
	OrderID               int                `json:"order_id"`
	ProductID             int                `json:"product_id"`
	VariantID             int                `json:"variant_id"`
	OrderAddressID        int                `json:"order_address_id"`
	Name                  string             `json:"name"`
	NameCustomer          string             `json:"name_customer"`
	NameMerchant          string             `json:"name_merchant"`
	SKU                   string             `json:"sku"`
	UPC                   string             `json:"upc"`
	Type                  string             `json:"type"`
	BasePrice             m4                 `json:"base_price"`
	PriceExTax            m4                 `json:"price_ex_tax"`
	PriceIncTax           m4                 `json:"price_inc_tax"`
	PriceTax              m4                 `json:"price_tax"`
	BaseTotal             m4                 `json:"base_total"`
	TotalExTax            m4                 `json:"total_ex_tax"`
	TotalIncTax           m4                 `json:"total_inc_tax"`
	TotalTax              m4                 `json:"total_tax"`
	Quantity              int                `json:"quantity"`
	BaseCostPrice         m4                 `json:"base_cost_price"`
	CostPriceIncTax       m4                 `json:"cost_price_inc_tax"`
	CostPriceExTax        m4                 `json:"cost_price_ex_tax"`
	CostPriceTax          m4                 `json:"cost_price_tax"`
	IsRefunded            bool               `json:"is_refunded"`
	QuantityRefunded      int                `json:"quantity_refunded"`
	RefundAmount          m4                 `json:"refund_amount"`
	ReturnID              int                `json:"return_id"`
	WrappingName          string             `json:"wrapping_name"`
	BaseWrappingCost      m4                 `json:"base_wrapping_cost"`
	WrappingCostExTax     m4                 `json:"wrapping_cost_ex_tax"`
	WrappingCostIncTax    m4                 `json:"wrapping_cost_inc_tax"`
	WrappingCostTax       m4                 `json:"wrapping_cost_tax"`
	WrappingMessage       string             `json:"wrapping_message"`
	QuantityShipped       int                `json:"quantity_shipped"`
	EventName             *string            `json:"event_name"`
	EventDate             string             `json:"event_date"`
	FixedShippingCost     m4                 `json:"fixed_shipping_cost"`
	EbayItemID            string             `json:"ebay_item_id"`
	EbayTransactionID     string             `json:"ebay_transaction_id"`
	OptionSetID           *int               `json:"option_set_id"`
	ParentOrderProductID  *int               `json:"parent_order_product_id"`
	IsBundledProduct      bool               `json:"is_bundled_product"`
	BinPickingNumber      string             `json:"bin_picking_number"`
	ExternalID            *string            `json:"external_id"`
	AppliedDiscounts      []wAppliedDiscount `json:"applied_discounts"`
	ProductOptions        []any              `json:"product_options"`
	ConfigurableFields    []any              `json:"configurable_fields"`
	DiscountedTotalIncTax m4                 `json:"discounted_total_inc_tax"`
}

type wShipmentItem struct {
	OrderProductID int `json:"order_product_id"`
	ProductID      int `json:"product_id"`
	Quantity       int `json:"quantity"`
}

// wShipment is one element of /v2/orders/{id}/shipments.
type wShipment struct {
	ID                          int             `json:"id"`
	OrderID                     int             `json:"order_id"`
	CustomerID                  int             `json:"customer_id"`
	OrderAddressID              int             `json:"order_address_id"`
	DateCreated                 rfc2822         `json:"date_created"`
	TrackingNumber              string          `json:"tracking_number"`
	MerchantShippingCost        m4              `json:"merchant_shipping_cost"`
	ShippingMethod              string          `json:"shipping_method"`
	ShippingProvider            string          `json:"shipping_provider"`
	ShippingProviderDisplayName string          `json:"shipping_provider_display_name"`
	TrackingCarrier             string          `json:"tracking_carrier"`
	TrackingLink                string          `json:"tracking_link"`
	GeneratedTrackingLink       string          `json:"generated_tracking_link"`
	Comments                    string          `json:"comments"`
	BillingAddress              wAddress        `json:"billing_address"`
	ShippingAddress             wAddress        `json:"shipping_address"`
	Items                       []wShipmentItem `json:"items"`
}

// wCoupon is one element of /v2/orders/{id}/coupons.
type wCoupon struct {
	ID       int    `json:"id"`
	CouponID int    `json:"coupon_id"`
	OrderID  int    `json:"order_id"`
	Code     string `json:"code"`
	Amount   m4     `json:"amount"`
	Type     int    `json:"type"`
	Discount m4     `json:"discount"`
}

type wAdjustment struct {
	Amount      num    `json:"amount"`
	Description string `json:"description"`
}

type wRefundItem struct {
	ItemType        string        `json:"item_type"`
	ItemID          int           `json:"item_id"`
	Reason          string        `json:"reason,omitempty"`
	Quantity        *int          `json:"quantity,omitempty"`
	RequestedAmount *num          `json:"requested_amount"`
	Adjustments     []wAdjustment `json:"adjustments,omitempty"`
}

type wRefundPayment struct {
	ID            int     `json:"id"`
	ProviderID    string  `json:"provider_id"`
	Amount        num     `json:"amount"`
	Offline       bool    `json:"offline"`
	IsDeclined    bool    `json:"is_declined"`
	DeclinedMsg   string  `json:"declined_message"`
	TransactionID *string `json:"transaction_id,omitempty"`
}

// wRefund is a v3 refund.
type wRefund struct {
	ID                         int              `json:"id"`
	OrderID                    int              `json:"order_id"`
	UserID                     int              `json:"user_id"`
	Created                    iso              `json:"created"`
	Reason                     string           `json:"reason"`
	TotalAmount                num              `json:"total_amount"`
	TotalTax                   num              `json:"total_tax"`
	UsesMerchantOverrideValues bool             `json:"uses_merchant_override_values"`
	Items                      []wRefundItem    `json:"items"`
	Payments                   []wRefundPayment `json:"payments"`
}

type wOffline struct {
	DisplayName string `json:"display_name"`
}

type wCustomMethod struct {
	PaymentMethod string `json:"payment_method"`
}

// wTransaction is a v3 order transaction.
type wTransaction struct {
	ID                     int            `json:"id"`
	OrderID                string         `json:"order_id"`
	Event                  string         `json:"event"`
	Method                 string         `json:"method"`
	Amount                 num            `json:"amount"`
	Currency               string         `json:"currency"`
	Gateway                string         `json:"gateway"`
	GatewayTransactionID   string         `json:"gateway_transaction_id"`
	DateCreated            iso            `json:"date_created"`
	Test                   bool           `json:"test"`
	Status                 string         `json:"status"`
	FraudReview            bool           `json:"fraud_review"`
	ReferenceTransactionID *int           `json:"reference_transaction_id"`
	PaymentMethodID        string         `json:"payment_method_id"`
	Offline                *wOffline      `json:"offline,omitempty"`
	Custom                 *wCustomMethod `json:"custom,omitempty"`
}

type wCustomerAddress struct {
	ID              int    `json:"id"`
	CustomerID      int    `json:"customer_id"`
	FirstName       string `json:"first_name"`
	LastName        string `json:"last_name"`
	Company         string `json:"company"`
	Address1        string `json:"address1"`
	Address2        string `json:"address2"`
	City            string `json:"city"`
	StateOrProvince string `json:"state_or_province"`
	PostalCode      string `json:"postal_code"`
	CountryCode     string `json:"country_code"`
	Country         string `json:"country"`
	Phone           string `json:"phone"`
	AddressType     string `json:"address_type"`
}

type wStoreCredit struct {
	Amount num `json:"amount"`
}

// wCustomer is a v3 customer.
type wCustomer struct {
	ID                 int                `json:"id"`
	Email              string             `json:"email"`
	FirstName          string             `json:"first_name"`
	LastName           string             `json:"last_name"`
	Company            string             `json:"company"`
	Phone              string             `json:"phone"`
	Notes              string             `json:"notes"`
	TaxExemptCategory  string             `json:"tax_exempt_category"`
	CustomerGroupID    int                `json:"customer_group_id"`
	RegistrationIP     string             `json:"registration_ip_address"`
	DateCreated        iso                `json:"date_created"`
	DateModified       iso                `json:"date_modified"`
	AddressCount       int                `json:"address_count"`
	Addresses          []wCustomerAddress `json:"addresses,omitempty"`
	StoreCreditAmounts []wStoreCredit     `json:"store_credit_amounts,omitempty"`
	OriginChannelID    int                `json:"origin_channel_id"`
	ChannelIDs         []int              `json:"channel_ids"`
}

// wVariant is a v3 catalog variant.
type wVariant struct {
	ID                 int            `json:"id"`
	ProductID          int            `json:"product_id"`
	SKU                string         `json:"sku"`
	SKUID              *int           `json:"sku_id"`
	Price              *num           `json:"price"`
	CalculatedPrice    num            `json:"calculated_price"`
	SalePrice          *num           `json:"sale_price"`
	RetailPrice        *num           `json:"retail_price"`
	CostPrice          num            `json:"cost_price"`
	UPC                string         `json:"upc"`
	MPN                string         `json:"mpn"`
	GTIN               string         `json:"gtin"`
	InventoryLevel     int            `json:"inventory_level"`
	PurchasingDisabled bool           `json:"purchasing_disabled"`
	OptionValues       []wOptionValue `json:"option_values"`
}

type wOptionValue struct {
	ID                int    `json:"id"`
	Label             string `json:"label"`
	OptionID          int    `json:"option_id"`
	OptionDisplayName string `json:"option_display_name"`
}

// wProduct is a v3 catalog product.
type wProduct struct {
	ID              int        `json:"id"`
	Name            string     `json:"name"`
	Type            string     `json:"type"`
	SKU             string     `json:"sku"`
	Price           num        `json:"price"`
	CostPrice       num        `json:"cost_price"`
	CalculatedPrice num        `json:"calculated_price"`
	IsVisible       bool       `json:"is_visible"`
	Availability    string     `json:"availability"`
	DateCreated     iso        `json:"date_created"`
	DateModified    iso        `json:"date_modified"`
	BaseVariantID   int        `json:"base_variant_id"`
	Variants        []wVariant `json:"variants,omitempty"`
}

// wPagination is v3's meta.pagination.
type wPagination struct {
	Total       int               `json:"total"`
	Count       int               `json:"count"`
	PerPage     int               `json:"per_page"`
	CurrentPage int               `json:"current_page"`
	TotalPages  int               `json:"total_pages"`
	Links       map[string]string `json:"links"`
}

type wMeta struct {
	Pagination *wPagination `json:"pagination,omitempty"`
}

type wList struct {
	Data any   `json:"data"`
	Meta wMeta `json:"meta"`
}

func itoa(i int) string { return strconv.Itoa(i) }
