package stix

// SCOID is the deterministic id STIX 2.1 §2.9 gives a cyber observable
// from its id-contributing properties, for other packages that build
// observables (the MISP import).
func SCOID(typ string, contributing map[string]any) string { return scoID(typ, contributing) }

// QuotePattern quotes a value for a STIX pattern (§9.2).
func QuotePattern(s string) string { return patternString(s) }

// UUID5 is a UUIDv5 of a name under a namespace given as a UUID string.
func UUID5(namespaceUUID, name string) string { return uuid5(mustUUID(namespaceUUID), name) }
