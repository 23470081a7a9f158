package misp

// categoryOf maps every attribute type MISP defines (describeTypes.json of
// MISP's own repository) to its default category. A type not listed is not
// MISP's, and an event carrying it is refused: guessing what it means could
// put a secret where an indicator was expected.
var categoryOf = map[string]string{}

func init() {
	for cat, types := range map[string][]string{
		"Payload delivery": {"md5", "sha1", "sha256", "filename", "filename|md5", "filename|sha1", "filename|sha256",
			"email-src", "email-subject", "email-attachment", "email-body", "malware-sample", "malware-type",
			"authentihash", "vhash", "ssdeep", "imphash", "telfhash", "pehash", "impfuzzy", "sha224", "sha384", "sha512",
			"sha512/224", "sha512/256", "sha3-224", "sha3-256", "sha3-384", "sha3-512", "tlsh", "cdhash",
			"filename|authentihash", "filename|vhash", "filename|ssdeep", "filename|imphash", "filename|impfuzzy",
			"filename|pehash", "filename|sha224", "filename|sha384", "filename|sha512", "filename|sha512/224",
			"filename|sha512/256", "filename|sha3-224", "filename|sha3-256", "filename|sha3-384", "filename|sha3-512",
			"filename|tlsh", "email-dst-display-name", "email-src-display-name", "email-header", "email-reply-to",
			"email-x-mailer", "email-mime-boundary", "email-thread-index", "email-message-id", "mobile-application-id",
			"azure-application-id", "chrome-extension-id", "edge-extension-id"},
		"Artifacts dropped": {"pdb", "gene", "kusto-query", "mime-type", "named pipe", "mutex", "process-state",
			"windows-scheduled-task", "windows-service-name", "windows-service-displayname"},
		"Network activity": {"ip-src", "ip-dst", "hostname", "domain", "domain|ip", "eppn", "email-dst", "url", "http-method",
			"user-agent", "ja3-fingerprint-md5", "jarm-fingerprint", "favicon-mmh3", "hassh-md5", "hasshserver-md5", "AS",
			"snort", "suricata", "bro", "zeek", "community-id", "dom-hash", "pattern-in-traffic", "ssh-fingerprint", "cookie",
			"uri", "x509-fingerprint-sha1", "x509-fingerprint-md5", "x509-fingerprint-sha256", "port", "ip-dst|port",
			"ip-src|port", "hostname|port", "mac-address", "mac-eui-64", "dkim", "dkim-signature", "onion-address"},
		"Social network": {"email", "github-username", "github-repository", "github-organisation", "jabber-id", "twitter-id"},
		"Other": {"float", "comment", "text", "hex", "other", "size-in-bytes", "counter", "integer", "datetime", "boolean",
			"uuid", "anonymised"},
		"Internal reference":    {"git-commit-id"},
		"Persistence mechanism": {"regkey", "regkey|value"},
		"Payload installation":  {"pattern-in-file", "pattern-in-memory", "filename-pattern", "yara", "stix2-pattern", "sigma"},
		"Person": {"pgp-public-key", "pgp-private-key", "identity-card-number", "phone-number", "first-name", "middle-name",
			"last-name", "full-name", "date-of-birth", "place-of-birth", "gender", "passport-number", "passport-country",
			"passport-expiration", "redress-number", "nationality", "visa-number", "issue-date-of-the-visa",
			"primary-residence", "country-of-residence", "special-service-request", "frequent-flyer-number",
			"travel-details", "payment-details", "place-port-of-original-embarkation", "place-port-of-clearance",
			"place-port-of-onward-foreign-destination", "passenger-name-record-locator-number"},
		"External analysis": {"vulnerability", "cpe", "weakness", "attachment", "link", "cortex"},
		"Targeting data":    {"target-user", "target-email", "target-machine", "target-org", "target-location", "target-external"},
		"Financial fraud":   {"btc", "dash", "xmr", "iban", "bic", "bank-account-nr", "aba-rtn", "bin", "cc-number", "prtn"},
		"Attribution": {"threat-actor", "campaign-name", "campaign-id", "whois-registrant-email", "whois-registrant-phone",
			"whois-registrant-name", "whois-registrant-org", "whois-registrar", "whois-creation-date", "dns-soa-email"},
	} {
		for _, t := range types {
			categoryOf[t] = cat
		}
	}
}

// KnownType reports whether MISP defines an attribute type.
func KnownType(t string) bool { _, ok := categoryOf[t]; return ok }

// DefaultCategory is the category MISP gives a type by default.
func DefaultCategory(t string) string {
	if c, ok := categoryOf[t]; ok {
		return c
	}
	return "Other"
}

// categories are MISP's attribute categories.
var categories = map[string]bool{
	"Internal reference": true, "Targeting data": true, "Antivirus detection": true, "Payload delivery": true,
	"Artifacts dropped": true, "Payload installation": true, "Persistence mechanism": true, "Network activity": true,
	"Payload type": true, "Attribution": true, "External analysis": true, "Financial fraud": true, "Support Tool": true,
	"Social network": true, "Person": true, "Other": true,
}
