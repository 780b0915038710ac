package qbo

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The types in this file mirror QBO's JSON wire format; field names and
// casing follow the v3 XSD (Finance.xsd, IntuitBaseTypes.xsd,
// IntuitNamesTypes.xsd). Mapping to any domain model is the caller's job.
//
// Omission rules, which matter for sparse updates (only fields present in the
// body are changed):
//   - identifiers, enums, dates and strings for which "" is never a meaningful
//     value are plain strings with omitempty;
//   - money, quantities, booleans and free text that a caller may want to set
//     to 0 / false / "" are pointers with omitempty (nil = not sent);
//   - nested objects are pointers, lists are slices (nil = not sent).

// Ref is QBO's ReferenceType: the Id of another entity plus its display name.
type Ref struct {
	Value string `json:"value"`
	Name  string `json:"name,omitempty"`
}

// MemoRef is a free-text memo (CustomerMemo).
type MemoRef struct {
	Value string `json:"value"`
}

// PhysicalAddress is a postal address (BillAddr, ShipAddr, ...).
// CountrySubDivisionCode is the state or province.
type PhysicalAddress struct {
	Id                     string `json:"Id,omitempty"`
	Line1                  string `json:"Line1,omitempty"`
	Line2                  string `json:"Line2,omitempty"`
	Line3                  string `json:"Line3,omitempty"`
	Line4                  string `json:"Line4,omitempty"`
	Line5                  string `json:"Line5,omitempty"`
	City                   string `json:"City,omitempty"`
	Country                string `json:"Country,omitempty"`
	CountryCode            string `json:"CountryCode,omitempty"`
	County                 string `json:"County,omitempty"`
	CountrySubDivisionCode string `json:"CountrySubDivisionCode,omitempty"`
	PostalCode             string `json:"PostalCode,omitempty"`
	PostalCodeSuffix       string `json:"PostalCodeSuffix,omitempty"`
	Lat                    string `json:"Lat,omitempty"`
	Long                   string `json:"Long,omitempty"`
	Tag                    string `json:"Tag,omitempty"`
	Note                   string `json:"Note,omitempty"`
}

// EmailAddress is a single e-mail address (BillEmail, PrimaryEmailAddr).
type EmailAddress struct {
	Address string `json:"Address,omitempty"`
}

// TelephoneNumber is a phone number as free text.
type TelephoneNumber struct {
	FreeFormNumber string `json:"FreeFormNumber,omitempty"`
}

// WebSiteAddress is a URL.
type WebSiteAddress struct {
	URI string `json:"URI,omitempty"`
}

// MetaData holds QBO's read-only creation and update times.
type MetaData struct {
	CreateTime      time.Time `json:"CreateTime,omitzero"`
	LastUpdatedTime time.Time `json:"LastUpdatedTime,omitzero"`
}

// LinkedTxn links a transaction or line to another transaction, e.g. a
// Payment line to the Invoice it pays.
type LinkedTxn struct {
	TxnId     string `json:"TxnId"`
	TxnType   string `json:"TxnType"`
	TxnLineId string `json:"TxnLineId,omitempty"`
}

// Line detail types (LineDetailTypeEnum).
const (
	SalesItemLine    = "SalesItemLineDetail"
	DiscountLine     = "DiscountLineDetail"
	SubTotalLine     = "SubTotalLineDetail"
	DescriptionOnly  = "DescriptionOnly"
	GroupLine        = "GroupLineDetail"
	TaxLine          = "TaxLineDetail"
	PaymentLineDType = "PaymentLineDetail"
)

// Line is one transaction line. DetailType says which *Detail field is set;
// QBO rejects a line without it (fault 2020). Payment lines carry only
// Amount and LinkedTxn.
type Line struct {
	Id                  string               `json:"Id,omitempty"`
	LineNum             int                  `json:"LineNum,omitempty"`
	Description         string               `json:"Description,omitempty"`
	Amount              *Decimal             `json:"Amount,omitempty"`
	DetailType          string               `json:"DetailType,omitempty"`
	SalesItemLineDetail *SalesItemLineDetail `json:"SalesItemLineDetail,omitempty"`
	DiscountLineDetail  *DiscountLineDetail  `json:"DiscountLineDetail,omitempty"`
	SubTotalLineDetail  *SubTotalLineDetail  `json:"SubTotalLineDetail,omitempty"`
	TaxLineDetail       *TaxLineDetail       `json:"TaxLineDetail,omitempty"`
	LinkedTxn           []LinkedTxn          `json:"LinkedTxn,omitempty"`
}

// SalesItemLineDetail is a product or service sold: Amount should equal
// Qty × UnitPrice. TaxCodeRef is "TAX"/"NON" in US companies, a TaxCode Id
// elsewhere. ServiceDate is YYYY-MM-DD.
type SalesItemLineDetail struct {
	ItemRef         *Ref     `json:"ItemRef,omitempty"`
	ClassRef        *Ref     `json:"ClassRef,omitempty"`
	UnitPrice       *Decimal `json:"UnitPrice,omitempty"`
	Qty             *Decimal `json:"Qty,omitempty"`
	TaxCodeRef      *Ref     `json:"TaxCodeRef,omitempty"`
	ServiceDate     string   `json:"ServiceDate,omitempty"`
	TaxInclusiveAmt *Decimal `json:"TaxInclusiveAmt,omitempty"`
}

// DiscountLineDetail is a discount, either a percentage or a fixed amount
// (the line's Amount).
type DiscountLineDetail struct {
	PercentBased       *bool    `json:"PercentBased,omitempty"`
	DiscountPercent    *Decimal `json:"DiscountPercent,omitempty"`
	DiscountAccountRef *Ref     `json:"DiscountAccountRef,omitempty"`
	ClassRef           *Ref     `json:"ClassRef,omitempty"`
	TaxCodeRef         *Ref     `json:"TaxCodeRef,omitempty"`
}

// SubTotalLineDetail is QBO's read-only subtotal line.
type SubTotalLineDetail struct {
	ItemRef *Ref `json:"ItemRef,omitempty"`
}

// TaxLineDetail is one tax line of TxnTaxDetail.
type TaxLineDetail struct {
	TaxRateRef       *Ref     `json:"TaxRateRef,omitempty"`
	PercentBased     *bool    `json:"PercentBased,omitempty"`
	TaxPercent       *Decimal `json:"TaxPercent,omitempty"`
	NetAmountTaxable *Decimal `json:"NetAmountTaxable,omitempty"`
}

// TxnTaxDetail is a transaction's tax summary. US companies normally send only
// TxnTaxCodeRef and let QBO compute the rest.
type TxnTaxDetail struct {
	TxnTaxCodeRef *Ref     `json:"TxnTaxCodeRef,omitempty"`
	TotalTax      *Decimal `json:"TotalTax,omitempty"`
	TaxLine       []Line   `json:"TaxLine,omitempty"`
}

// Entity status values (EntityStatusEnum) seen in CDC and delete responses.
const (
	StatusDeleted = "Deleted"
	StatusVoided  = "Voided"
)

// SalesReceipt is a sale paid at the time of sale (entity "salesreceipt").
// DocNumber is at most 21 characters. Without DepositToAccountRef QBO uses
// Undeposited Funds.
type SalesReceipt struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	Status    string    `json:"status,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	DocNumber             string           `json:"DocNumber,omitempty"`
	TxnDate               string           `json:"TxnDate,omitempty"`
	PrivateNote           *string          `json:"PrivateNote,omitempty"`
	CurrencyRef           *Ref             `json:"CurrencyRef,omitempty"`
	ExchangeRate          *Decimal         `json:"ExchangeRate,omitempty"`
	LinkedTxn             []LinkedTxn      `json:"LinkedTxn,omitempty"`
	Line                  []Line           `json:"Line,omitempty"`
	TxnTaxDetail          *TxnTaxDetail    `json:"TxnTaxDetail,omitempty"`
	CustomerRef           *Ref             `json:"CustomerRef,omitempty"`
	CustomerMemo          *MemoRef         `json:"CustomerMemo,omitempty"`
	BillAddr              *PhysicalAddress `json:"BillAddr,omitempty"`
	ShipAddr              *PhysicalAddress `json:"ShipAddr,omitempty"`
	ClassRef              *Ref             `json:"ClassRef,omitempty"`
	ShipMethodRef         *Ref             `json:"ShipMethodRef,omitempty"`
	ShipDate              *string          `json:"ShipDate,omitempty"`
	TrackingNum           *string          `json:"TrackingNum,omitempty"`
	GlobalTaxCalculation  string           `json:"GlobalTaxCalculation,omitempty"`
	ApplyTaxAfterDiscount *bool            `json:"ApplyTaxAfterDiscount,omitempty"`
	PrintStatus           string           `json:"PrintStatus,omitempty"`
	EmailStatus           string           `json:"EmailStatus,omitempty"`
	BillEmail             *EmailAddress    `json:"BillEmail,omitempty"`
	TotalAmt              *Decimal         `json:"TotalAmt,omitempty"`
	HomeTotalAmt          *Decimal         `json:"HomeTotalAmt,omitempty"`
	Balance               *Decimal         `json:"Balance,omitempty"`
	PaymentMethodRef      *Ref             `json:"PaymentMethodRef,omitempty"`
	PaymentRefNum         *string          `json:"PaymentRefNum,omitempty"`
	DepositToAccountRef   *Ref             `json:"DepositToAccountRef,omitempty"`
}

// Invoice is a sale to be paid later (entity "invoice"). DueDate is
// YYYY-MM-DD; without it QBO derives one from SalesTermRef.
type Invoice struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	Status    string    `json:"status,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	DocNumber             string           `json:"DocNumber,omitempty"`
	TxnDate               string           `json:"TxnDate,omitempty"`
	DueDate               string           `json:"DueDate,omitempty"`
	PrivateNote           *string          `json:"PrivateNote,omitempty"`
	CurrencyRef           *Ref             `json:"CurrencyRef,omitempty"`
	ExchangeRate          *Decimal         `json:"ExchangeRate,omitempty"`
	LinkedTxn             []LinkedTxn      `json:"LinkedTxn,omitempty"`
	Line                  []Line           `json:"Line,omitempty"`
	TxnTaxDetail          *TxnTaxDetail    `json:"TxnTaxDetail,omitempty"`
	CustomerRef           *Ref             `json:"CustomerRef,omitempty"`
	CustomerMemo          *MemoRef         `json:"CustomerMemo,omitempty"`
	BillAddr              *PhysicalAddress `json:"BillAddr,omitempty"`
	ShipAddr              *PhysicalAddress `json:"ShipAddr,omitempty"`
	ClassRef              *Ref             `json:"ClassRef,omitempty"`
	SalesTermRef          *Ref             `json:"SalesTermRef,omitempty"`
	ShipMethodRef         *Ref             `json:"ShipMethodRef,omitempty"`
	ShipDate              *string          `json:"ShipDate,omitempty"`
	TrackingNum           *string          `json:"TrackingNum,omitempty"`
	GlobalTaxCalculation  string           `json:"GlobalTaxCalculation,omitempty"`
	ApplyTaxAfterDiscount *bool            `json:"ApplyTaxAfterDiscount,omitempty"`
	PrintStatus           string           `json:"PrintStatus,omitempty"`
	EmailStatus           string           `json:"EmailStatus,omitempty"`
	BillEmail             *EmailAddress    `json:"BillEmail,omitempty"`
	TotalAmt              *Decimal         `json:"TotalAmt,omitempty"`
	HomeTotalAmt          *Decimal         `json:"HomeTotalAmt,omitempty"`
	Balance               *Decimal         `json:"Balance,omitempty"`
	Deposit               *Decimal         `json:"Deposit,omitempty"`
	DepositToAccountRef   *Ref             `json:"DepositToAccountRef,omitempty"`
}

// RefundReceipt is money paid back to a customer (entity "refundreceipt").
// DepositToAccountRef (the account the refund is paid from) is required.
type RefundReceipt struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	Status    string    `json:"status,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	DocNumber             string           `json:"DocNumber,omitempty"`
	TxnDate               string           `json:"TxnDate,omitempty"`
	PrivateNote           *string          `json:"PrivateNote,omitempty"`
	CurrencyRef           *Ref             `json:"CurrencyRef,omitempty"`
	ExchangeRate          *Decimal         `json:"ExchangeRate,omitempty"`
	LinkedTxn             []LinkedTxn      `json:"LinkedTxn,omitempty"`
	Line                  []Line           `json:"Line,omitempty"`
	TxnTaxDetail          *TxnTaxDetail    `json:"TxnTaxDetail,omitempty"`
	CustomerRef           *Ref             `json:"CustomerRef,omitempty"`
	CustomerMemo          *MemoRef         `json:"CustomerMemo,omitempty"`
	BillAddr              *PhysicalAddress `json:"BillAddr,omitempty"`
	ShipAddr              *PhysicalAddress `json:"ShipAddr,omitempty"`
	ClassRef              *Ref             `json:"ClassRef,omitempty"`
	ShipMethodRef         *Ref             `json:"ShipMethodRef,omitempty"`
	ShipDate              *string          `json:"ShipDate,omitempty"`
	TrackingNum           *string          `json:"TrackingNum,omitempty"`
	GlobalTaxCalculation  string           `json:"GlobalTaxCalculation,omitempty"`
	ApplyTaxAfterDiscount *bool            `json:"ApplyTaxAfterDiscount,omitempty"`
	PrintStatus           string           `json:"PrintStatus,omitempty"`
	BillEmail             *EmailAddress    `json:"BillEmail,omitempty"`
	TotalAmt              *Decimal         `json:"TotalAmt,omitempty"`
	HomeTotalAmt          *Decimal         `json:"HomeTotalAmt,omitempty"`
	Balance               *Decimal         `json:"Balance,omitempty"`
	PaymentMethodRef      *Ref             `json:"PaymentMethodRef,omitempty"`
	PaymentRefNum         *string          `json:"PaymentRefNum,omitempty"`
	PaymentType           string           `json:"PaymentType,omitempty"`
	DepositToAccountRef   *Ref             `json:"DepositToAccountRef,omitempty"`
}

// Payment records money received against invoices (entity "payment"). Each
// Line carries Amount and a LinkedTxn to the Invoice it pays.
type Payment struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	Status    string    `json:"status,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	DocNumber           string      `json:"DocNumber,omitempty"`
	TxnDate             string      `json:"TxnDate,omitempty"`
	PrivateNote         *string     `json:"PrivateNote,omitempty"`
	TxnStatus           string      `json:"TxnStatus,omitempty"`
	CurrencyRef         *Ref        `json:"CurrencyRef,omitempty"`
	ExchangeRate        *Decimal    `json:"ExchangeRate,omitempty"`
	LinkedTxn           []LinkedTxn `json:"LinkedTxn,omitempty"`
	Line                []Line      `json:"Line,omitempty"`
	CustomerRef         *Ref        `json:"CustomerRef,omitempty"`
	ARAccountRef        *Ref        `json:"ARAccountRef,omitempty"`
	DepositToAccountRef *Ref        `json:"DepositToAccountRef,omitempty"`
	PaymentMethodRef    *Ref        `json:"PaymentMethodRef,omitempty"`
	PaymentRefNum       *string     `json:"PaymentRefNum,omitempty"`
	TotalAmt            *Decimal    `json:"TotalAmt,omitempty"`
	UnappliedAmt        *Decimal    `json:"UnappliedAmt,omitempty"`
	ProcessPayment      *bool       `json:"ProcessPayment,omitempty"`
}

// Customer is a name-list entity (entity "customer"). DisplayName must be
// unique across customers, vendors and employees (fault 6240) and may not
// contain ':'. Customers are never deleted, only made inactive.
type Customer struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	Status    string    `json:"status,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	DisplayName        string           `json:"DisplayName,omitempty"`
	Title              string           `json:"Title,omitempty"`
	GivenName          string           `json:"GivenName,omitempty"`
	MiddleName         string           `json:"MiddleName,omitempty"`
	FamilyName         string           `json:"FamilyName,omitempty"`
	Suffix             string           `json:"Suffix,omitempty"`
	CompanyName        *string          `json:"CompanyName,omitempty"`
	FullyQualifiedName string           `json:"FullyQualifiedName,omitempty"`
	PrintOnCheckName   string           `json:"PrintOnCheckName,omitempty"`
	Active             *bool            `json:"Active,omitempty"`
	PrimaryPhone       *TelephoneNumber `json:"PrimaryPhone,omitempty"`
	Mobile             *TelephoneNumber `json:"Mobile,omitempty"`
	Fax                *TelephoneNumber `json:"Fax,omitempty"`
	PrimaryEmailAddr   *EmailAddress    `json:"PrimaryEmailAddr,omitempty"`
	WebAddr            *WebSiteAddress  `json:"WebAddr,omitempty"`
	BillAddr           *PhysicalAddress `json:"BillAddr,omitempty"`
	ShipAddr           *PhysicalAddress `json:"ShipAddr,omitempty"`
	Notes              *string          `json:"Notes,omitempty"`
	Taxable            *bool            `json:"Taxable,omitempty"`
	DefaultTaxCodeRef  *Ref             `json:"DefaultTaxCodeRef,omitempty"`
	CurrencyRef        *Ref             `json:"CurrencyRef,omitempty"`
	PaymentMethodRef   *Ref             `json:"PaymentMethodRef,omitempty"`
	SalesTermRef       *Ref             `json:"SalesTermRef,omitempty"`
	ParentRef          *Ref             `json:"ParentRef,omitempty"`
	Job                *bool            `json:"Job,omitempty"`
	BillWithParent     *bool            `json:"BillWithParent,omitempty"`
	ResaleNum          string           `json:"ResaleNum,omitempty"`
	Balance            *Decimal         `json:"Balance,omitempty"`
}

// Item types (ItemTypeEnum) used by sales lines.
const (
	ItemTypeService      = "Service"
	ItemTypeNonInventory = "NonInventory"
	ItemTypeInventory    = "Inventory"
	ItemTypeGroup        = "Group"
	ItemTypeCategory     = "Category"
)

// Item is a product or service (entity "item"). Service and NonInventory
// items need IncomeAccountRef; Inventory items also need ExpenseAccountRef,
// AssetAccountRef, TrackQtyOnHand, QtyOnHand and InvStartDate.
type Item struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	Status    string    `json:"status,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	Name               string   `json:"Name,omitempty"`
	Sku                *string  `json:"Sku,omitempty"`
	Description        *string  `json:"Description,omitempty"`
	Active             *bool    `json:"Active,omitempty"`
	SubItem            *bool    `json:"SubItem,omitempty"`
	ParentRef          *Ref     `json:"ParentRef,omitempty"`
	FullyQualifiedName string   `json:"FullyQualifiedName,omitempty"`
	Taxable            *bool    `json:"Taxable,omitempty"`
	UnitPrice          *Decimal `json:"UnitPrice,omitempty"`
	Type               string   `json:"Type,omitempty"`
	IncomeAccountRef   *Ref     `json:"IncomeAccountRef,omitempty"`
	PurchaseDesc       *string  `json:"PurchaseDesc,omitempty"`
	PurchaseCost       *Decimal `json:"PurchaseCost,omitempty"`
	ExpenseAccountRef  *Ref     `json:"ExpenseAccountRef,omitempty"`
	AssetAccountRef    *Ref     `json:"AssetAccountRef,omitempty"`
	TrackQtyOnHand     *bool    `json:"TrackQtyOnHand,omitempty"`
	QtyOnHand          *Decimal `json:"QtyOnHand,omitempty"`
	InvStartDate       string   `json:"InvStartDate,omitempty"`
	SalesTaxCodeRef    *Ref     `json:"SalesTaxCodeRef,omitempty"`
}

// Account is a chart-of-accounts entry (entity "account").
type Account struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	Status    string    `json:"status,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	Name               string   `json:"Name,omitempty"`
	SubAccount         *bool    `json:"SubAccount,omitempty"`
	ParentRef          *Ref     `json:"ParentRef,omitempty"`
	Description        *string  `json:"Description,omitempty"`
	FullyQualifiedName string   `json:"FullyQualifiedName,omitempty"`
	Active             *bool    `json:"Active,omitempty"`
	Classification     string   `json:"Classification,omitempty"`
	AccountType        string   `json:"AccountType,omitempty"`
	AccountSubType     string   `json:"AccountSubType,omitempty"`
	AcctNum            *string  `json:"AcctNum,omitempty"`
	CurrentBalance     *Decimal `json:"CurrentBalance,omitempty"`
	CurrencyRef        *Ref     `json:"CurrencyRef,omitempty"`
}

// PaymentMethod is a way of paying, e.g. "Visa" (entity "paymentmethod").
// Type is "CREDIT_CARD" or "NON_CREDIT_CARD".
type PaymentMethod struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	Status    string    `json:"status,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	Name   string `json:"Name,omitempty"`
	Active *bool  `json:"Active,omitempty"`
	Type   string `json:"Type,omitempty"`
}

// TaxCode is a sales tax code (entity "taxcode"; read-only through this API).
type TaxCode struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	Status    string    `json:"status,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	Name             string       `json:"Name,omitempty"`
	Description      string       `json:"Description,omitempty"`
	Active           *bool        `json:"Active,omitempty"`
	Hidden           *bool        `json:"Hidden,omitempty"`
	Taxable          *bool        `json:"Taxable,omitempty"`
	TaxGroup         *bool        `json:"TaxGroup,omitempty"`
	SalesTaxRateList *TaxRateList `json:"SalesTaxRateList,omitempty"`
}

// TaxRateList lists the rates that make up a TaxCode.
type TaxRateList struct {
	TaxRateDetail []TaxRateDetail `json:"TaxRateDetail,omitempty"`
}

// TaxRateDetail is one rate of a TaxCode.
type TaxRateDetail struct {
	TaxRateRef        *Ref   `json:"TaxRateRef,omitempty"`
	TaxTypeApplicable string `json:"TaxTypeApplicable,omitempty"`
	TaxOrder          int    `json:"TaxOrder,omitempty"`
}

// NameValue is a generic name/value pair.
type NameValue struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// CompanyInfo describes the connected company. Country ("US", "CA", "GB",
// ...) decides the tax model (US companies use TAX/NON line codes).
type CompanyInfo struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	CompanyName          string           `json:"CompanyName,omitempty"`
	LegalName            string           `json:"LegalName,omitempty"`
	CompanyAddr          *PhysicalAddress `json:"CompanyAddr,omitempty"`
	LegalAddr            *PhysicalAddress `json:"LegalAddr,omitempty"`
	CompanyStartDate     string           `json:"CompanyStartDate,omitempty"`
	FiscalYearStartMonth string           `json:"FiscalYearStartMonth,omitempty"`
	Country              string           `json:"Country,omitempty"`
	Email                *EmailAddress    `json:"Email,omitempty"`
	PrimaryPhone         *TelephoneNumber `json:"PrimaryPhone,omitempty"`
	SupportedLanguages   string           `json:"SupportedLanguages,omitempty"`
	DefaultTimeZone      string           `json:"DefaultTimeZone,omitempty"`
	NameValue            []NameValue      `json:"NameValue,omitempty"`
}

// UnmarshalJSON decodes CompanyName and Country strictly and every other
// field as best it can: a field of a type other than the one declared here
// is left zero instead of failing the read (see Preferences.UnmarshalJSON).
func (ci *CompanyInfo) UnmarshalJSON(b []byte) error {
	type plain CompanyInfo
	var v plain
	if err := lenientUnmarshal(b, &v); err != nil {
		return err
	}
	var used struct {
		CompanyName string `json:"CompanyName"`
		Country     string `json:"Country"`
	}
	if err := json.Unmarshal(b, &used); err != nil {
		return fmt.Errorf("CompanyInfo: %w", err)
	}
	*ci = CompanyInfo(v)
	ci.CompanyName, ci.Country = used.CompanyName, used.Country
	return nil
}

// lenientUnmarshal decodes b into v, leaving zero any field whose JSON
// type differs from v's (encoding/json skips such a field and completes
// the rest); a syntax error still fails.
func lenientUnmarshal(b []byte, v any) error {
	err := json.Unmarshal(b, v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return nil
	}
	return err
}

// Preferences holds the company settings that affect what we may send.
// Only the sections this project needs are typed, and only the fields
// velqbo reads (HomeCurrency, MultiCurrencyEnabled, CustomTxnNumbers) must
// have the type declared here: Intuit's XSD and the JSON QBO sends do not
// always agree (DefaultShippingAccount and DefaultDiscountAccount are
// strings in the XSD and booleans in other clients), so any other field
// that does not fit is left zero instead of failing the read.
type Preferences struct {
	Id        string    `json:"Id,omitempty"`
	SyncToken string    `json:"SyncToken,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Sparse    bool      `json:"sparse,omitempty"`
	MetaData  *MetaData `json:"MetaData,omitempty"`

	SalesFormsPrefs *SalesFormsPrefs `json:"SalesFormsPrefs,omitempty"`
	CurrencyPrefs   *CurrencyPrefs   `json:"CurrencyPrefs,omitempty"`
	TaxPrefs        *TaxPrefs        `json:"TaxPrefs,omitempty"`
	OtherPrefs      *OtherPrefs      `json:"OtherPrefs,omitempty"`
}

// SalesFormsPrefs are the sales-form settings. CustomTxnNumbers says whether
// the company uses its own DocNumbers (recommended check before setting one).
type SalesFormsPrefs struct {
	CustomTxnNumbers       *bool  `json:"CustomTxnNumbers,omitempty"`
	AllowDiscount          *bool  `json:"AllowDiscount,omitempty"`
	AllowShipping          *bool  `json:"AllowShipping,omitempty"`
	AllowServiceDate       *bool  `json:"AllowServiceDate,omitempty"`
	AllowDeposit           *bool  `json:"AllowDeposit,omitempty"`
	DefaultDiscountAccount string `json:"DefaultDiscountAccount,omitempty"`
	DefaultShippingAccount string `json:"DefaultShippingAccount,omitempty"`
	DefaultTerms           *Ref   `json:"DefaultTerms,omitempty"`
}

// CurrencyPrefs are the currency settings.
type CurrencyPrefs struct {
	MultiCurrencyEnabled *bool `json:"MultiCurrencyEnabled,omitempty"`
	HomeCurrency         *Ref  `json:"HomeCurrency,omitempty"`
}

// TaxPrefs are the sales-tax settings.
type TaxPrefs struct {
	UsingSalesTax     *bool `json:"UsingSalesTax,omitempty"`
	PartnerTaxEnabled *bool `json:"PartnerTaxEnabled,omitempty"`
	TaxGroupCodeRef   *Ref  `json:"TaxGroupCodeRef,omitempty"`
}

// OtherPrefs is a bag of name/value settings.
type OtherPrefs struct {
	NameValue []NameValue `json:"NameValue,omitempty"`
}

// UnmarshalJSON decodes the fields velqbo reads strictly and the rest as
// best it can (see Preferences).
func (p *Preferences) UnmarshalJSON(b []byte) error {
	type plain Preferences
	var v plain
	if err := lenientUnmarshal(b, &v); err != nil {
		return err
	}
	var used struct {
		SalesFormsPrefs *struct {
			CustomTxnNumbers *bool `json:"CustomTxnNumbers"`
		} `json:"SalesFormsPrefs"`
		CurrencyPrefs *struct {
			MultiCurrencyEnabled *bool `json:"MultiCurrencyEnabled"`
			HomeCurrency         *struct {
				Value string `json:"value"`
			} `json:"HomeCurrency"`
		} `json:"CurrencyPrefs"`
	}
	if err := json.Unmarshal(b, &used); err != nil {
		return fmt.Errorf("Preferences: %w", err)
	}
	*p = Preferences(v)
	if sf := used.SalesFormsPrefs; sf != nil {
		if p.SalesFormsPrefs == nil {
			p.SalesFormsPrefs = &SalesFormsPrefs{}
		}
		p.SalesFormsPrefs.CustomTxnNumbers = sf.CustomTxnNumbers
	}
	if cp := used.CurrencyPrefs; cp != nil {
		if p.CurrencyPrefs == nil {
			p.CurrencyPrefs = &CurrencyPrefs{}
		}
		p.CurrencyPrefs.MultiCurrencyEnabled = cp.MultiCurrencyEnabled
		if cp.HomeCurrency != nil {
			if p.CurrencyPrefs.HomeCurrency == nil {
				p.CurrencyPrefs.HomeCurrency = &Ref{}
			}
			p.CurrencyPrefs.HomeCurrency.Value = cp.HomeCurrency.Value
		}
	}
	return nil
}

// HomeCurrency returns the home currency code ("USD"), or "" if unknown.
func (p *Preferences) HomeCurrency() string {
	if p == nil || p.CurrencyPrefs == nil || p.CurrencyPrefs.HomeCurrency == nil {
		return ""
	}
	return p.CurrencyPrefs.HomeCurrency.Value
}

// MultiCurrencyEnabled reports whether multi-currency is on.
func (p *Preferences) MultiCurrencyEnabled() bool {
	return p != nil && p.CurrencyPrefs != nil && p.CurrencyPrefs.MultiCurrencyEnabled != nil && *p.CurrencyPrefs.MultiCurrencyEnabled
}

// CustomTxnNumbers reports whether custom transaction numbers are on.
func (p *Preferences) CustomTxnNumbers() bool {
	return p != nil && p.SalesFormsPrefs != nil && p.SalesFormsPrefs.CustomTxnNumbers != nil && *p.SalesFormsPrefs.CustomTxnNumbers
}
