package datamap

import "github.com/sessionshq/sessions/internal/privacy/vendors"

// tables gathers every table of the schema. Each area of the product
// declares its tables in a file of its own here and adds its list below.
func tables() []Table {
	var all []Table
	for _, group := range [][]Table{
		foundationTables(),
		auditAnchorTables(),
		jobEngineTables(),
		accountTables(),
		profileTables(),
		organisationTables(),
		staffTables(),
		analyticsTables(),
		noticeTables(),
		consentTables(),
		marketingTables(),
		rightsTables(),
		rightsRecipientTables(),
		requestTables(),
		retentionTables(),
		meetingTables(),
		callTables(),
		invitationTables(),
	} {
		all = append(all, group...)
	}
	return all
}

// hosting are the sub-processors that hold everything the product stores:
// the cloud provider and the partner that runs our account with it.
func hosting(also ...string) []string {
	return append([]string{vendors.GoogleCloud, vendors.Revolgy}, also...)
}

// plain declares a column without personal data and says why it has none.
func plain(name, why string) Column { return Column{Name: name, Note: why} }

// deleted is the erasure of a column whose rows are deleted.
func deleted() *Erasure { return &Erasure{Action: Delete} }

// cleared is the erasure of a column that becomes NULL while its row stays.
func cleared() *Erasure { return &Erasure{Action: Anonymise} }
