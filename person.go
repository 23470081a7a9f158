package kyoyu

import "time"

// Role is what a person does in Kyoyu. It decides which actions they may
// take; what they may see is decided by the sharing-range rule (policy/).
type Role string

const (
	RoleNISCAnalyst        Role = "nisc_analyst"
	RoleMinistryLiaison    Role = "ministry_liaison"
	RoleCEPTOARSecretariat Role = "ceptoar_secretariat"
	RoleOperatorReporter   Role = "operator_reporter"
	RoleOrgAdmin           Role = "org_admin"
	RoleSystemAdmin        Role = "system_admin"
)

// Roles lists every role, in the order forms show them.
var Roles = []Role{
	RoleNISCAnalyst, RoleMinistryLiaison, RoleCEPTOARSecretariat,
	RoleOperatorReporter, RoleOrgAdmin, RoleSystemAdmin,
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if v == r {
			return true
		}
	}
	return false
}

// Person is an account: someone acting for one organisation.
type Person struct {
	ID             int64  `json:"id"`
	OrganisationID int64  `json:"organisation_id"`
	Email          string `json:"email"`
	Name           string `json:"name"`
	Role           Role   `json:"role"`
	// HandlesIncidents marks staff who handle incident information
	// (関係者限り): only they see AMBER material of their organisation.
	HandlesIncidents bool       `json:"handles_incidents"`
	TOTPEnabled      bool       `json:"totp_enabled"`
	Locale           string     `json:"locale"`
	CreatedAt        time.Time  `json:"created_at"`
	DisabledAt       *time.Time `json:"disabled_at,omitempty"`

	// Credentials and sign-in state; never serialised.
	PasswordHash string     `json:"-"`
	TOTPSecret   string     `json:"-"`
	FailedLogins int        `json:"-"`
	LockedUntil  *time.Time `json:"-"`
}

// Actor is who is doing something, as the audit log and the policy see it.
type Actor struct {
	Person       *Person
	Organisation *Organisation
	IP           string
}

// Session is a signed-in browser. Only the hash of its identifier is stored.
type Session struct {
	IDHash     string
	PersonID   int64
	CSRFToken  string
	MFAPending bool // password checked, second factor not yet
	CreatedAt  time.Time
	ExpiresAt  time.Time
	IP         string
}

// APIToken is a bearer credential for the API and TAXII. Only its hash is
// stored; the secret is shown once, at creation.
type APIToken struct {
	ID        int64      `json:"id"`
	PersonID  int64      `json:"person_id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"` // first characters, to recognise it in lists
	Hash      string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}
