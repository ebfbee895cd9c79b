package consent

import (
	_ "embed"
	"time"
)

// ReceiptSchema is the JSON Schema (draft 2020-12) of Receipts, which the
// product publishes so that anyone can check a receipt they were given.
//
//go:embed receipt.schema.json
var ReceiptSchema []byte

// ReceiptsVersion is the version of the receipt format; it changes with
// the schema.
const ReceiptsVersion = "1"

// Receipts is the document a person downloads: who keeps the records,
// whose they are, where each purpose stands now, and every record.
type Receipts struct {
	// Schema is the URL of ReceiptSchema on the server that issued it.
	Schema      string           `json:"schema"`
	Version     string           `json:"version"`
	IssuedAt    time.Time        `json:"issued_at"`
	Controllers []Controller     `json:"controllers"`
	Subject     ReceiptSubject   `json:"subject"`
	Current     []CurrentConsent `json:"current"`
	Receipts    []Receipt        `json:"receipts"`
}

// Controller is a company responsible for the records.
type Controller struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Contact string `json:"contact"`
}

// ReceiptSubject is whose records they are.
type ReceiptSubject struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// CurrentConsent is where one purpose stands at IssuedAt.
type CurrentConsent struct {
	Purpose     string `json:"purpose"`
	PurposeName string `json:"purpose_name"`
	// State is "none" when no record names the purpose.
	State    string     `json:"state"`
	Since    *time.Time `json:"since"`
	RecordID *string    `json:"record_id"`
}

// Receipt is one record as the person receives it, with the W3C DPV
// terms beside the product's own.
type Receipt struct {
	RecordID    string           `json:"record_id"`
	Subject     ReceiptSubject   `json:"subject"`
	Notice      ReceiptNotice    `json:"notice"`
	Purposes    []ReceiptPurpose `json:"purposes"`
	LegalBasis  string           `json:"legal_basis"`
	Method      string           `json:"method"`
	Time        time.Time        `json:"time"`
	State       string           `json:"state"`
	IPTruncated *string          `json:"ip_truncated"`
	UserAgent   *string          `json:"user_agent"`
	GPC         bool             `json:"gpc"`
	LinkedFrom  *string          `json:"linked_from"`
	DPV         ReceiptDPV       `json:"dpv"`
}

// ReceiptNotice names the text the person was shown.
type ReceiptNotice struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// ReceiptPurpose is a purpose with its name.
type ReceiptPurpose struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ReceiptDPV gives the record's basis and state as W3C DPV concepts.
type ReceiptDPV struct {
	LegalBasis string `json:"legal_basis"`
	Status     string `json:"status"`
}

// dpvStatus maps states to DPV's consent status concepts.
var dpvStatus = map[State]string{
	Given:     "dpv:ConsentGiven",
	Refused:   "dpv:ConsentRefused",
	Withdrawn: "dpv:ConsentWithdrawn",
	Expired:   "dpv:ConsentExpired",
}

// ReceiptOf turns a record into its receipt.
func ReceiptOf(r Record) Receipt {
	out := Receipt{
		RecordID: r.ID, Subject: ReceiptSubject{Kind: r.SubjectKind, ID: r.SubjectID},
		Notice:     ReceiptNotice{ID: r.NoticeID, Version: r.NoticeVersion, SHA256: r.NoticeHash},
		LegalBasis: string(r.Basis), Method: string(r.Method), Time: r.At.UTC(), State: string(r.State),
		IPTruncated: optional(r.IP), UserAgent: optional(r.UserAgent), GPC: r.GPC, LinkedFrom: optional(r.LinkedFrom),
		DPV: ReceiptDPV{LegalBasis: "dpv:Consent", Status: dpvStatus[r.State]},
	}
	for _, id := range r.Purposes {
		name := id
		if p, ok := Purpose(id); ok {
			name = p.Name
		}
		out.Purposes = append(out.Purposes, ReceiptPurpose{ID: id, Name: name})
	}
	return out
}

// NewReceipts builds the document for a subject from their history (in
// ledger order) at now: every choosable purpose with its current state
// (expiry applied), then every record.
func NewReceipts(schemaURL string, controllers []Controller, kind, id string, history []Record, now time.Time) Receipts {
	doc := Receipts{
		Schema: schemaURL, Version: ReceiptsVersion, IssuedAt: now.UTC(), Controllers: controllers,
		Subject: ReceiptSubject{Kind: kind, ID: id}, Current: []CurrentConsent{}, Receipts: []Receipt{},
	}
	latest := map[string]Record{}
	for _, r := range history {
		for _, p := range r.Purposes {
			latest[p] = r
		}
		doc.Receipts = append(doc.Receipts, ReceiptOf(r))
	}
	for _, p := range ChoosablePurposes() {
		c := CurrentConsent{Purpose: p.ID, PurposeName: p.Name, State: "none"}
		if r, ok := latest[p.ID]; ok {
			at, id := r.At.UTC(), r.ID
			c.State, c.Since, c.RecordID = string(r.StateAt(now)), &at, &id
		}
		doc.Current = append(doc.Current, c)
	}
	return doc
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
