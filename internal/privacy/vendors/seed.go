package vendors

import "slices"

// Ids of the seeded entries. The data map names recipients by these ids.
const (
	LiveKit         = "livekit"
	GoogleCloud     = "google-cloud"
	InnerTrends     = "innertrends"
	Elastic         = "elastic"
	LogRocket       = "logrocket"
	Mailgun         = "mailgun"
	Mailjet         = "mailjet"
	HubSpot         = "hubspot"
	Slack           = "slack"
	GoogleWorkspace = "google-workspace"
	Microsoft       = "microsoft"
	Productboard    = "productboard"
	Atlassian       = "atlassian"
	OpenAI          = "openai"
	Zendesk         = "zendesk"
	Pulumi          = "pulumi"
	SuperPublishing = "super-publishing"
	Ngrok           = "ngrok"
	GitHub          = "github"
	Revolgy         = "revolgy"
	NewRelic        = "new-relic"
	Colossyan       = "colossyan"
	Threado         = "threado"
	PSPDFKit        = "pspdfkit"
	Zapier          = "zapier"
)

// hosted is what a hosting provider, and whoever runs that hosting for us,
// may see: everything the product stores.
var hosted = []string{
	"account.credentials", "activity.audit-trail", "biometric.audio-video", "contact.email",
	"content.delivery-status", "content.email-message", "content.file", "content.meeting",
	"content.message", "financial.transaction", "identity.name", "online.ip-address",
	"preference.settings", "pseudonym.id",
	// Member profiles.
	"contact.postal-address", "contact.telephone", "identity.birth-date", "identity.gender",
	"identity.username", "location.approximate", "preference.interests", "professional.company",
	"professional.online-presence", "preference.privacy",
	// Accounts: sessions and sign-in.
	"account.sign-in-history", "online.user-agent",
	// First-party analytics.
	"online.browsing", "online.usage",
}

// Seed returns the registry as the product ships it: one entry per company
// that the privacy notice names as a sub-processor. Start-up inserts the
// entries that are missing and leaves existing ones, which staff may have
// edited, alone. Country, mechanism and categories describe each company
// as it is publicly known to operate; staff correct them in the console
// when a contract says otherwise.
func Seed() []Subprocessor {
	seed := []Subprocessor{
		{ID: LiveKit, Name: "LiveKit", Activity: "Video call infrastructure", Purpose: "service",
			Country: "US", Mechanism: StandardClauses, Website: "https://livekit.io",
			DataCategories: []string{"biometric.audio-video", "content.message", "identity.name", "online.ip-address", "pseudonym.id"}},
		{ID: GoogleCloud, Name: "Google Cloud", Activity: "Hosting and storage", Purpose: "service",
			Country: "US", Mechanism: DataPrivacyFramework, Website: "https://cloud.google.com",
			DataCategories: hosted},
		{ID: InnerTrends, Name: "InnerTrends", Activity: "Analytics tool", Purpose: "analytics",
			Country: "RO", Mechanism: WithinEEA, Website: "https://www.innertrends.com",
			DataCategories: []string{"online.usage", "pseudonym.id"}},
		{ID: Elastic, Name: "Elastic", Activity: "Analytics tool", Purpose: "analytics",
			Country: "NL", Mechanism: WithinEEA, Website: "https://www.elastic.co",
			DataCategories: []string{"online.ip-address", "online.usage", "pseudonym.id"}},
		{ID: LogRocket, Name: "LogRocket", Activity: "Analytics tool", Purpose: "analytics",
			Country: "US", Mechanism: StandardClauses, Website: "https://logrocket.com",
			DataCategories: []string{"online.browsing", "online.ip-address", "online.usage", "online.user-agent", "pseudonym.id"}},
		{ID: Mailgun, Name: "Mailgun", Activity: "Mailing service provider", Purpose: "service-communications",
			Country: "US", Mechanism: DataPrivacyFramework, Website: "https://www.mailgun.com",
			DataCategories: []string{"contact.email", "content.delivery-status", "content.email-message", "identity.name", "pseudonym.id"}},
		{ID: Mailjet, Name: "Mailjet", Activity: "Mailing service provider", Purpose: "marketing",
			Country: "FR", Mechanism: WithinEEA, Website: "https://www.mailjet.com",
			DataCategories: []string{"contact.email", "content.delivery-status", "content.email-message", "identity.name", "pseudonym.id"}},
		{ID: HubSpot, Name: "HubSpot", Activity: "CRM", Purpose: "customer-records",
			Country: "US", Mechanism: DataPrivacyFramework, Website: "https://www.hubspot.com",
			DataCategories: []string{"contact.email", "contact.telephone", "financial.transaction", "identity.name", "professional.company"}},
		{ID: Slack, Name: "Slack", Activity: "Internal communication", Purpose: "service",
			Country: "US", Mechanism: DataPrivacyFramework, Website: "https://slack.com",
			DataCategories: []string{"contact.email", "content.message", "identity.name"}},
		{ID: GoogleWorkspace, Name: "Google Workspace", Activity: "Back office operations", Purpose: "customer-records",
			Country: "US", Mechanism: DataPrivacyFramework, Website: "https://workspace.google.com",
			DataCategories: []string{"contact.email", "content.message", "financial.transaction", "identity.name"}},
		{ID: Microsoft, Name: "Microsoft", Activity: "OneDrive subscription", Purpose: "service",
			Country: "US", Mechanism: DataPrivacyFramework, Website: "https://www.microsoft.com/microsoft-365/onedrive",
			DataCategories: []string{"content.file"}},
		{ID: Productboard, Name: "Productboard", Activity: "Feedback gathering and organization tool", Purpose: "analytics",
			Country: "US", Mechanism: StandardClauses, Website: "https://www.productboard.com",
			DataCategories: []string{"contact.email", "content.feedback", "identity.name"}},
		{ID: Atlassian, Name: "Atlassian (Jira)", Activity: "Internal project management tool", Purpose: "service",
			Country: "AU", Mechanism: StandardClauses, Website: "https://www.atlassian.com/software/jira",
			DataCategories: []string{"content.message", "pseudonym.id"}},
		{ID: OpenAI, Name: "OpenAI", Activity: "Autogenerated summaries and agenda", Purpose: "service",
			Country: "US", Mechanism: StandardClauses, Website: "https://openai.com",
			DataCategories: []string{"content.meeting"}},
		{ID: Zendesk, Name: "Zendesk", Activity: "Support infrastructure", Purpose: "service",
			Country: "US", Mechanism: DataPrivacyFramework, Website: "https://www.zendesk.com",
			DataCategories: []string{"contact.email", "content.message", "identity.name"}},
		{ID: Pulumi, Name: "Pulumi", Activity: "Infrastructure", Purpose: "service",
			Country: "US", Mechanism: StandardClauses, Website: "https://www.pulumi.com",
			DataCategories: []string{}},
		{ID: SuperPublishing, Name: "Super Publishing Co.", Activity: "Help center infrastructure", Purpose: "service",
			Country: "US", Mechanism: StandardClauses, Website: "https://super.so",
			DataCategories: []string{"online.ip-address", "online.user-agent"}},
		{ID: Ngrok, Name: "ngrok", Activity: "Infrastructure", Purpose: "service",
			Country: "US", Mechanism: StandardClauses, Website: "https://ngrok.com",
			DataCategories: []string{"online.ip-address", "online.user-agent"}},
		{ID: GitHub, Name: "GitHub", Activity: "Development infrastructure", Purpose: "service",
			Country: "US", Mechanism: DataPrivacyFramework, Website: "https://github.com",
			DataCategories: []string{}},
		{ID: Revolgy, Name: "Revolgy", Activity: "Infrastructure", Purpose: "service",
			Country: "CZ", Mechanism: WithinEEA, Website: "https://www.revolgy.com",
			DataCategories: hosted},
		{ID: NewRelic, Name: "New Relic", Activity: "DevOps tool", Purpose: "security",
			Country: "US", Mechanism: DataPrivacyFramework, Website: "https://newrelic.com",
			DataCategories: []string{"online.ip-address", "online.user-agent", "pseudonym.id"}},
		{ID: Colossyan, Name: "Colossyan", Activity: "Video editing", Purpose: "service",
			Country: "GB", Mechanism: Adequacy, Website: "https://www.colossyan.com",
			DataCategories: []string{"biometric.audio-video"}},
		{ID: Threado, Name: "Threado", Activity: "Community tool", Purpose: "service-communications",
			Country: "US", Mechanism: StandardClauses, Website: "https://www.threado.com",
			DataCategories: []string{"contact.email", "content.message", "identity.name"}},
		{ID: PSPDFKit, Name: "PSPDFKit", Activity: "Integration subscription", Purpose: "service",
			Country: "AT", Mechanism: WithinEEA, Website: "https://www.nutrient.io",
			DataCategories: []string{"content.file"}},
		{ID: Zapier, Name: "Zapier", Activity: "Integration subscription", Purpose: "customer-records",
			Country: "US", Mechanism: DataPrivacyFramework, Website: "https://zapier.com",
			DataCategories: []string{"contact.email", "identity.name"}},
	}
	for i := range seed {
		seed[i].Active = true
		// Each caller gets its own slices; hosted is shared above.
		seed[i].DataCategories = slices.Clone(seed[i].DataCategories)
		slices.Sort(seed[i].DataCategories)
	}
	return seed
}
