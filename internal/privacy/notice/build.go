package notice

import (
	"slices"
	"strings"

	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

// Paths the notice links to. They are pages of this product, so the
// notice works on every instance whatever its address.
const (
	PathNotice        = "/privacy/notice"
	PathHistory       = "/privacy/notice/history"
	PathCookies       = "/privacy/cookies"
	PathPrivacyCentre = "/privacy"
	PathSubprocessors = "/privacy/subprocessors"
	PathRecord        = "/privacy/record"
	PathAccount       = "/account"
	PathOrganisations = "/orgs"
	PathMarketing     = "/account/marketing"
	PathConsents      = "/account/consents"
)

// SignUpCategories are the categories the sign-up form asks for (name,
// e-mail address and password, see account.SignUp): the only data that
// is required to open an account. A test keeps the two in step.
var SignUpCategories = []string{"identity.name", "contact.email", "account.credentials"}

// Build writes the notice from the data map and the sub-processor
// registry as they stand. Only active sub-processors are named, and only
// categories and retention rules that some stored column uses appear, so
// the notice never promises or admits more than the product does.
func Build(m datamap.Map, subprocessors []vendors.Subprocessor) Document {
	rec := datamap.BuildRecord(m, subprocessors)
	b := builder{m: m, rec: rec}
	return Document{
		Title: "Privacy notice",
		Sections: []Section{
			b.whoWeAre(),
			b.whatWeCollect(),
			b.howWeCollect(),
			b.purposes(),
			b.marketing(),
			b.recipients(),
			b.transfers(),
			b.retention(),
			b.dpa(),
			b.cookies(),
			b.rights(),
			b.security(),
			b.complaints(),
			b.changes(),
			b.contact(),
		},
	}
}

type builder struct {
	m   datamap.Map
	rec datamap.Record
}

func para(text string) Block { return Block{Kind: Paragraph, Text: text} }

func list(items ...string) Block { return Block{Kind: List, Items: items} }

func table(columns []string, rows [][]string) Block {
	return Block{Kind: Table, Columns: columns, Rows: rows}
}

// contacts are the distinct addresses of the controllers, in their order.
func (b builder) contacts() []string {
	var out []string
	for _, c := range b.m.Controllers {
		if c.Contact != "" && !slices.Contains(out, c.Contact) {
			out = append(out, c.Contact)
		}
	}
	return out
}

// mailLinks writes the contact addresses as mailto links.
func (b builder) mailLinks() string {
	var links []string
	for _, c := range b.contacts() {
		links = append(links, "["+c+"](mailto:"+c+")")
	}
	return joinWords(links, "or")
}

// joinWords joins "a", "b" and "c" as "a, b and c".
func joinWords(words []string, last string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + last + " " + words[len(words)-1]
}

func (b builder) whoWeAre() Section {
	var rows [][]string
	for _, c := range b.rec.Controllers {
		name := c.Name
		if c.CountryName != "" {
			name += " (" + c.CountryName + ")"
		}
		rows = append(rows, []string{name, c.Role, c.Scope, c.Contact})
	}
	var people []string
	for _, s := range b.m.Subjects {
		people = append(people, strings.ToLower(s.Name[:1])+s.Name[1:]+": "+lowerFirst(strings.TrimSuffix(s.Description, ".")))
	}
	return Section{ID: "who-we-are", Title: "Who we are", Blocks: []Block{
		para("Sessions is a platform for online meetings. This notice tells you which personal data the platform keeps, why it keeps it and on what legal grounds, for how long, who else receives it, and what rights you have over it. It is written by the software itself, from the catalogue of every piece of data the platform stores and from our register of sub-processors, so it changes whenever the software does."),
		para("The organisations that decide how your personal data is used, the controllers, depend on where you live:"),
		table([]string{"Controller", "Role", "For whom", "Contact"}, rows),
		para("Your [account](" + PathAccount + ") shows the controllers for the country of residence you gave us."),
		para("The notice covers everyone whose data the platform handles:"),
		list(people...),
		para("It covers this platform only. Sessions can embed or open services that others run, such as Google Drive, Miro and Microsoft OneDrive; when you use one of them, its own privacy notice applies, and we do not read your files or your account there through its programming interfaces."),
		para("We wrote this notice for adults, parents and guardians among them. If you are a child, we suggest you read it with an adult who can explain it. A child below the age of digital consent in their country can use an account only once a parent or guardian has confirmed it through a link we send them by e-mail."),
	}}
}

// sourceWords names where a category comes from, for people.
func sourceWords(s datamap.Source) string {
	switch s {
	case datamap.Provided:
		return "you, or someone acting for you"
	case datamap.Observed:
		return "your use of the platform"
	case datamap.Derived:
		return "our own processing"
	}
	return string(s)
}

// need says whether a category is required, optional or recorded without
// being asked for.
func need(c datamap.RecordCategory) string {
	provided := slices.Contains(c.Sources, datamap.Provided)
	switch {
	case slices.Contains(SignUpCategories, c.ID):
		return "Required to open an account"
	case provided && len(c.Sources) == 1:
		return "Optional, unless a form marks it as required for what you ask of us"
	case provided:
		return "Partly given by you when you choose to, partly recorded by the platform"
	}
	return "Recorded or worked out by the platform; you do not type it in"
}

func (b builder) whatWeCollect() Section {
	var rows [][]string
	var specials []string
	for _, c := range b.rec.Categories {
		name := c.Name
		if c.Special {
			name += " (special category)"
			specials = append(specials, c.Name)
		}
		var from []string
		if slices.Contains(SignUpCategories, c.ID) && !slices.Contains(c.Sources, datamap.Provided) {
			// The sign-up form asks for it, though what is stored is
			// derived from the answer (a password's hash).
			from = append(from, sourceWords(datamap.Provided))
		}
		for _, s := range c.Sources {
			from = append(from, sourceWords(s))
		}
		rows = append(rows, []string{name, c.Description, need(c), strings.Join(from, "; ")})
	}
	special := joinWords(specials, "and")
	blocks := []Block{
		para("This is every kind of personal data the present version of the platform stores. Opening an account needs only your name, your e-mail address and a password. Everything else you add only if you wish, or when a feature you ask for needs it, and each form marks the fields it cannot do without. If you leave out something that is required, we cannot provide what that form is for."),
		table([]string{"Data", "What it is", "Required or optional", "Where it comes from"}, rows),
	}
	if special != "" {
		blocks = append(blocks, para(special+" belong to the special categories of personal data, which the law protects more strictly; the platform processes them only for people who have explicitly agreed."))
	}
	blocks = append(blocks, para("The full list of stored fields, with the purpose of each, is in the [record of processing]("+PathRecord+")."))
	return Section{ID: "what-we-collect", Title: "The personal data we keep", Blocks: blocks}
}

// categoryNames lists the names of the categories with source s.
func (b builder) categoryNames(s datamap.Source) string {
	var names []string
	for _, c := range b.rec.Categories {
		if slices.Contains(c.Sources, s) {
			names = append(names, lowerFirst(c.Name))
		}
	}
	return joinWords(names, "and")
}

func (b builder) howWeCollect() Section {
	var items []string
	if n := b.categoryNames(datamap.Provided); n != "" {
		items = append(items, "From you, directly: what you type into a form, upload, say or show in a session, or send us by e-mail, when you open an account, contact us, give feedback, buy something or share content. This covers "+n+".")
	}
	if n := b.categoryNames(datamap.Observed); n != "" {
		items = append(items, "From your use of the platform: what our servers note as you use it, such as when you sign in and which features you use. This covers "+n+". Cookies and similar technologies are explained in the [cookie notice]("+PathCookies+").")
	}
	if n := b.categoryNames(datamap.Derived); n != "" {
		items = append(items, "From our own processing: values we work out from the above, such as random identifiers, one-way digests and whether an account is a child's. This covers "+n+".")
	}
	items = append(items, "From other people: someone may give us your e-mail address to invite you, such as the owner of an organisation or the host of a meeting, and a child may name you as the parent or guardian who should confirm their account.")
	return Section{ID: "how-we-collect", Title: "How we obtain it", Blocks: []Block{
		para("Personal data reaches us in four ways:"),
		list(items...),
	}}
}

func (b builder) purposes() Section {
	var rows [][]string
	for _, p := range b.rec.Purposes {
		var notes []string
		if p.BasisNote != "" {
			notes = append(notes, p.BasisNote)
		}
		if p.LegitimateInterest != "" {
			notes = append(notes, "Our interest: "+lowerFirst(p.LegitimateInterest))
		}
		rows = append(rows, []string{p.Name, p.Description, p.BasisLabels(), strings.Join(notes, " ")})
	}
	return Section{ID: "purposes", Title: "Why we use it, and on what legal basis", Blocks: []Block{
		para("Data protection law lets us use personal data only on a lawful basis: your consent; a contract with you, or steps you ask us to take before one; a legal obligation that binds us; or a legitimate interest of ours or of someone else that your own rights and interests do not outweigh. These are the purposes the platform uses data for, and the basis each rests on:"),
		table([]string{"Purpose", "What it means", "Lawful basis", "When which basis applies"}, rows),
		para("Where we rely on a legitimate interest we have weighed it against your rights and interests; write to us at the address under Contact to receive that assessment. Withdrawing a consent stops the use from then on; it does not make what we did before the withdrawal unlawful."),
	}}
}

func (b builder) marketing() Section {
	basis := "a legitimate interest"
	if p, ok := b.m.Purpose("marketing"); ok && p.LegitimateInterest != "" {
		basis += ": " + lowerFirst(strings.TrimSuffix(p.LegitimateInterest, "."))
	}
	return Section{ID: "marketing", Title: "Marketing", Blocks: []Block{
		para("We may tell you about our products and services, offers, promotions and what is new, by e-mail, text message, telephone or social media."),
		para("Marketing rests on " + basis + ". That is why we do not ask for your consent before we send it; if we ever need consent for it, we will ask for it on its own and in plain words."),
		para("We treat every member who has confirmed their e-mail address as an existing customer of our free service, so marketing is on for them until they turn it off. Child accounts receive no marketing, and neither does anyone with whom we have no customer relationship."),
		para("You can stop marketing at any time, for each channel or for all of them:"),
		list(
			"follow the unsubscribe link in any marketing e-mail: one click is enough, and you do not need to sign in;",
			"change your [marketing preferences]("+PathMarketing+") in your account, or on the page that every marketing message links to, where you need not sign in;",
			"write to us at "+b.mailLinks()+".",
		),
		para("An objection to marketing is final: we put your address on a suppression list that every sender checks before anything goes out. You can also object to profiling on its own. You may be asked to confirm your preferences again when you buy something new from us, or when the law or our business changes."),
		para("We never sell personal data, to anyone, inside our group or outside it, and the platform has no function that could."),
	}}
}

func (b builder) recipients() Section {
	var rows [][]string
	for _, s := range b.rec.Subprocessors {
		rows = append(rows, []string{s.Name, s.Activity, s.CountryName, s.MechanismLabel})
	}
	blocks := []Block{
		para("Sub-processors are companies that handle personal data for us, under contracts that let them use it only on our instructions and only to deliver our services, with safeguards we have checked. We choose them with care and hold them to the same standard as this notice. These are the sub-processors on our register today; the [sub-processors page](" + PathSubprocessors + ") also shows which kinds of data each one may receive, and the register is published as JSON at [/api/subprocessors](/api/subprocessors)."),
	}
	if len(rows) > 0 {
		blocks = append(blocks, table([]string{"Sub-processor", "What it does for us", "Where", "Transfer safeguard"}, rows))
	} else {
		blocks = append(blocks, para("No sub-processor receives personal data at present."))
	}
	var others []string
	for _, o := range b.m.OtherRecipients {
		others = append(others, o.Name+": "+lowerFirst(o.Description))
	}
	if len(others) > 0 {
		blocks = append(blocks,
			para("Other recipients receive personal data only when a situation calls for it, and are bound to confidentiality or act under the law:"),
			list(others...))
	}
	return Section{ID: "recipients", Title: "Who receives your data", Blocks: blocks}
}

func (b builder) transfers() Section {
	blocks := []Block{
		para("Countries protect personal data to different standards. We send personal data out of the European Economic Area (EEA) only where the European Commission has found that the destination protects it adequately (Article 45 GDPR), where the standard contractual clauses adopted by the Commission are part of the contract (Article 46(2) GDPR), or where the law provides a specific exception."),
	}
	var rows [][]string
	for _, t := range b.rec.Transfers {
		rows = append(rows, []string{t.Name, t.CountryName, t.MechanismLabel})
	}
	if len(rows) > 0 {
		blocks = append(blocks,
			para("These recipients process personal data outside the EEA, each under the safeguard shown:"),
			table([]string{"Recipient", "Country", "Safeguard"}, rows))
	} else {
		blocks = append(blocks, para("No recipient processes personal data outside the EEA at present."))
	}
	if slices.ContainsFunc(b.rec.Transfers, func(t datamap.RecordTransfer) bool { return t.Mechanism == string(vendors.DataPrivacyFramework) }) {
		blocks = append(blocks, para("The EU-US Data Privacy Framework rests on an adequacy decision that covers companies in the United States certified under it."))
	}
	blocks = append(blocks,
		para("If a safeguard stopped being available, we would end the transfer unless another mechanism the law allows covers it, and this notice would say so."),
		para("A new destination, or a change of safeguard, is published as a new version of this notice, as described under Changes to this notice."),
	)
	return Section{ID: "transfers", Title: "Transfers outside the European Economic Area", Blocks: blocks}
}

func (b builder) retention() Section {
	var rows [][]string
	for _, r := range b.rec.TimeLimits {
		how := r.PeriodText
		if r.Period.IsZero() {
			how = "Until " + r.Event
		}
		then := "Deleted"
		if r.AtEnd == datamap.Anonymise {
			then = "Anonymised"
		}
		rows = append(rows, []string{how, r.Description, then})
	}
	return Section{ID: "retention", Title: "How long we keep it", Blocks: []Block{
		para("We keep personal data only as long as the purpose it serves needs it, and then delete it or make it anonymous. Each stored field follows one of these rules:"),
		table([]string{"How long", "What the rule covers", "Then"}, rows),
		para("Which rule applies to each field is listed in the [record of processing](" + PathRecord + ")."),
	}}
}

func (b builder) dpa() Section {
	return Section{ID: "dpa", Title: "Organisations and our Data Processing Addendum", Blocks: []Block{
		para("An organisation can use Sessions to meet its own clients. For its clients' data the organisation decides, and we process that data on its behalf as a processor under Article 28 GDPR."),
		para("Our Data Processing Addendum (DPA) governs that processing: its subject and duration, its nature and purpose, the kinds of personal data and of people concerned, and the security measures we apply. The addendum is versioned; an owner of the organisation reads and accepts the current version from the organisation's page under [your organisations](" + PathOrganisations + "), and we keep a record of each acceptance."),
	}}
}

func (b builder) cookies() Section {
	return Section{ID: "cookies", Title: "Cookies and similar technologies", Blocks: []Block{
		para("A cookie is a small file a website stores in your browser. Until you make a choice in our cookie banner, the platform stores nothing in your browser beyond what is strictly needed for it to work, and refusing is as easy as accepting. The Cookie settings link at the foot of every page reopens your choice, and withdrawing it removes the cookies it allowed."),
		para("We honour the Global Privacy Control signal of your browser as an objection to tracking and sharing for marketing."),
		para("The [cookie notice](" + PathCookies + ") lists every cookie and similar technology we use, with its purpose, category, lifetime and whether it is ours or a third party's."),
	}}
}

func (b builder) rights() Section {
	rows := [][]string{
		{"Access", "Receive a copy of the personal data we hold about you, with the information in this notice about how we use it."},
		{"Rectification", "Have inaccurate data about you corrected, and incomplete data completed."},
		{"Erasure", "Have your personal data deleted where the law grants it, for instance when we no longer need it or you withdraw the consent it rested on."},
		{"Restriction", "Have us keep your data but stop otherwise using it for a while, for instance while you dispute whether it is correct."},
		{"Portability", "Receive the data you gave us in a structured, common, machine-readable format, or have us send it to another service."},
		{"Objection", "Object at any time to direct marketing, profiling for it included. Object to other uses that rest on our legitimate interests; we then stop unless we have compelling grounds that override yours or need the data for legal claims."},
		{"Withdrawing consent", "Withdraw any consent you gave, at any time and as easily as you gave it. It does not affect what we did before."},
		{"No solely automated decisions", "Not be subject to a decision made by automated means alone, profiling included, that has legal or similarly significant effects on you. The platform makes no such decisions."},
	}
	return Section{ID: "rights", Title: "Your rights", Blocks: []Block{
		para("Data protection law gives you these rights over your personal data. Some apply only in certain situations; we will tell you if one does not apply to your request and why."),
		table([]string{"Right", "What it means"}, rows),
		para("Many of them you can use yourself, at any time: the [privacy centre](" + PathPrivacyCentre + ") and your [account](" + PathAccount + ") let you see and correct your details, review and withdraw your [consents](" + PathConsents + "), change your [marketing choices](" + PathMarketing + ") and close or delete your account. For anything else, write to " + b.mailLinks() + "."),
		para("Using your rights costs nothing. We may ask you to prove who you are, in proportion to what you ask, so that nobody else obtains your data. We answer within one month; if a request is complex or one of many, we may take up to two further months and will tell you why within the first."),
	}}
}

func (b builder) security() Section {
	var items []string
	for _, s := range b.m.Security {
		items = append(items, s.Title+": "+lowerFirst(s.Description))
	}
	return Section{ID: "security", Title: "Keeping your data secure", Blocks: []Block{
		para("We protect personal data against loss and against unlawful access or use, and only people whose work needs it can reach it. These are the measures this version of the platform takes:"),
		list(items...),
		para("We have a procedure for suspected breaches of security. When the law requires it, we inform the supervisory authority and the people affected."),
	}}
}

func (b builder) complaints() Section {
	return Section{ID: "complaints", Title: "Complaints", Blocks: []Block{
		para("If you are unhappy with how we handle your personal data, please tell us first at " + b.mailLinks() + ", and we will do our best to resolve it."),
		para("You also have the right to complain to a data protection supervisory authority, in particular in the country where you live or work or where you believe the law was broken. For Sessions Technologies Romania SRL, the joint controller for the EEA, the United Kingdom and Switzerland, that is the Romanian National Supervisory Authority for Personal Data Processing ([www.dataprotection.ro](https://www.dataprotection.ro)). In the United Kingdom it is the Information Commissioner's Office ([ico.org.uk](https://ico.org.uk)), and in Switzerland the Federal Data Protection and Information Commissioner ([www.edoeb.admin.ch](https://www.edoeb.admin.ch))."),
	}}
}

func (b builder) changes() Section {
	return Section{ID: "changes", Title: "Changes to this notice", Blocks: []Block{
		para("Each version of this notice is numbered and kept. The [history](" + PathHistory + ") lists every version with the date it took effect and a summary of what changed, and every earlier version can still be read there. Each version is published with the SHA-256 fingerprint of its text, so a copy can be checked against the original."),
		para("When a change is significant, we send an e-mail about it to every active member, and signed-in members see a notice on the platform until they confirm they have read it."),
	}}
}

func (b builder) contact() Section {
	return Section{ID: "contact", Title: "Contact", Blocks: []Block{
		para("For any question about this notice or about the data we hold on you, to use one of your rights or to make a complaint, write to " + b.mailLinks() + ". Both controllers answer at this address."),
		para("So that we can find your data quickly, tell us your name and the e-mail address of your account, which right you want to use, and which data your request is about."),
	}}
}

// lowerFirst lower-cases the first letter, for text that continues a
// sentence, unless the first word is an acronym.
func lowerFirst(s string) string {
	if len(s) < 2 || s[1] >= 'A' && s[1] <= 'Z' {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
