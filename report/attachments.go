package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/policy"
	"kyoyu/quarantine"
	"kyoyu/store"
)

// Attachments (別紙) belong to one report version and are seen exactly by
// those who see it. They do not travel with the report by themselves: each
// hop carries on the ones it chooses (CarryAttachment), so a secretariat
// can drop a press release that names the operator it anonymised.

// Upload is a file someone attaches to their draft.
type Upload struct {
	Filename    string // as the browser sent it; sanitised before it is kept
	ContentType string // as declared; kept for display only
	Sample      bool   // 検体: may be live malware, kept sealed
	Data        []byte
}

// MaxFilename is the longest file name kept, in bytes (what file systems allow).
const MaxFilename = 255

// ownDraft returns the draft if it is one pr's organisation is writing;
// anything else is not found, like a draft that does not exist.
func (s *Service) ownDraft(ctx context.Context, pr *account.Principal, versionID int64) (*kyoyu.ReportVersion, error) {
	ver, err := s.DB.Version(ctx, viewer(pr), versionID)
	if err != nil {
		return nil, err
	}
	if ver.Status != kyoyu.VersionDraft || ver.OrgID != pr.Organisation.ID {
		return nil, notFound("draft")
	}
	return ver, nil
}

// vault opens the quarantine under the configured secret key, or the one
// this database keeps.
func (s *Service) vault(ctx context.Context) (*quarantine.Vault, error) {
	key, err := s.DB.SecretKey(ctx, s.Cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	return quarantine.NewVault(key)
}

// AddAttachment attaches a file to a draft of pr's organisation. An empty
// file, or one over the configured limit, is refused and nothing is kept.
// A sample is sealed (AES-256-GCM) before it reaches the database.
func (s *Service) AddAttachment(ctx context.Context, pr *account.Principal, ip string, draftID int64, up Upload) (*store.Attachment, error) {
	if _, err := s.ownDraft(ctx, pr, draftID); err != nil {
		return nil, err
	}
	if len(up.Data) == 0 {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "attachments.empty", Fields: map[string]string{"file": "attachment_empty"}}
	}
	if int64(len(up.Data)) > s.Cfg.AttachmentLimit {
		return nil, &kyoyu.Error{Code: kyoyu.ETOOLARGE, Message: "attachments.too_large"}
	}
	sum := sha256.Sum256(up.Data)
	a := &store.Attachment{VersionID: draftID, Filename: SanitiseFilename(up.Filename), ContentType: cleanContentType(up.ContentType),
		Size: int64(len(up.Data)), SHA256: hex.EncodeToString(sum[:]), IsSample: up.Sample, UploadedBy: pr.Person.ID, Data: up.Data}
	if up.Sample {
		v, err := s.vault(ctx)
		if err != nil {
			return nil, err
		}
		if a.Data, err = v.Seal(up.Data, a.SHA256); err != nil {
			return nil, err
		}
		a.Encrypted, a.KeyID = true, v.KeyID()
	}
	if err := s.DB.AddAttachment(ctx, actor(pr, ip), pr.Organisation.ID, a); err != nil {
		return nil, err
	}
	a.Data = nil
	return a, nil
}

// DeleteAttachment removes an attachment from a draft of pr's organisation.
func (s *Service) DeleteAttachment(ctx context.Context, pr *account.Principal, ip string, draftID, attachmentID int64) error {
	if _, err := s.ownDraft(ctx, pr, draftID); err != nil {
		return err
	}
	return s.DB.DeleteAttachment(ctx, actor(pr, ip), pr.Organisation.ID, draftID, attachmentID)
}

// CarryAttachment copies an attachment of the case onto pr's draft — the
// next hop's choice of what travels on with its version. The attachment
// must be one pr may see; anything else is not found.
func (s *Service) CarryAttachment(ctx context.Context, pr *account.Principal, ip string, draftVersionID, attachmentID int64) (*store.Attachment, error) {
	if _, err := s.ownDraft(ctx, pr, draftVersionID); err != nil {
		return nil, err
	}
	return s.DB.CarryAttachment(ctx, actor(pr, ip), viewer(pr), pr.Organisation.ID, draftVersionID, attachmentID)
}

// CarryChoices lists what pr may carry onto its draft: the attachments of
// the case's other versions that pr sees (the received version's among
// them) and that the draft does not hold yet.
func (s *Service) CarryChoices(ctx context.Context, pr *account.Principal, draftID int64) ([]*store.Attachment, error) {
	draft, err := s.ownDraft(ctx, pr, draftID)
	if err != nil {
		return nil, err
	}
	all, err := s.DB.CaseAttachments(ctx, viewer(pr), draft.CaseID)
	if err != nil {
		return nil, err
	}
	held := map[string]bool{}
	for _, a := range all {
		if a.VersionID == draftID {
			held[fmt.Sprint(a.CarriedFrom)] = true
			held[a.SHA256+"/"+a.Filename] = true
		}
	}
	var out []*store.Attachment
	for _, a := range all {
		if a.VersionID != draftID && !held[fmt.Sprint(a.ID)] && !held[a.SHA256+"/"+a.Filename] {
			out = append(out, a)
		}
	}
	return out, nil
}

// HasAttachments is 別紙有無 for a version as pr sees it: derived from its
// attachments, never typed.
func (s *Service) HasAttachments(ctx context.Context, pr *account.Principal, versionID int64) (bool, error) {
	as, err := s.DB.Attachments(ctx, viewer(pr), versionID)
	return len(as) > 0, err
}

// auditedRead reports whether reading an attachment is recorded: RED and
// AMBER material always, and every sample.
func auditedRead(a *store.Attachment) bool {
	return a.IsSample || a.TLP == policy.Red || a.TLP == policy.Amber
}

func (s *Service) auditAttachmentRead(ctx context.Context, pr *account.Principal, ip string, a *store.Attachment, how string) error {
	if !auditedRead(a) {
		return nil
	}
	e := store.EntryFor(actor(pr, ip), "attachment.read", "attachment", fmt.Sprint(a.ID), audit.OK,
		fmt.Sprintf("case=%d version=%d tlp=%s %s sha256=%s", a.CaseID, a.VersionID, a.TLP, how, a.SHA256))
	return s.DB.Audit(ctx, e)
}

// Download returns an attachment that is not a sample, with its bytes,
// checked against the recorded SHA-256. A read of RED or AMBER material is
// audited before the bytes are handed out. Samples only leave in an
// archive (ExportSample).
func (s *Service) Download(ctx context.Context, pr *account.Principal, ip string, caseID, id int64) (*store.Attachment, error) {
	a, err := s.DB.AttachmentData(ctx, viewer(pr), caseID, id)
	if err != nil {
		return nil, err
	}
	if a.IsSample {
		return nil, &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "attachments.sample_archive_only"}
	}
	if a.Encrypted {
		v, err := s.vault(ctx)
		if err != nil {
			return nil, err
		}
		if a.Data, err = v.Open(a.Data, a.SHA256); err != nil {
			return nil, fmt.Errorf("attachment %d: %w", a.ID, err)
		}
	} else if sum := sha256.Sum256(a.Data); hex.EncodeToString(sum[:]) != a.SHA256 {
		return nil, fmt.Errorf("attachment %d: %w", a.ID, quarantine.ErrIntegrity)
	}
	if err := s.auditAttachmentRead(ctx, pr, ip, a, "download"); err != nil {
		return nil, err
	}
	return a, nil
}

// SampleOffer is what the confirmation page of a sample shows: the sample,
// the archive password for this offer, and the nonce the form carries back.
type SampleOffer struct {
	Attachment *store.Attachment
	Nonce      string
	Password   string
}

// OfferSample prepares the deliberate download of a sample. The password
// is derived from the offer, never stored: the page shows it and the
// person passes it on by another channel than the archive. A valid nonce
// from a form shown before keeps its password (the page shown again after
// a refusal); otherwise the offer is new.
func (s *Service) OfferSample(ctx context.Context, pr *account.Principal, caseID, id int64, nonce string) (*SampleOffer, error) {
	a, err := s.DB.Attachment(ctx, viewer(pr), caseID, id)
	if err != nil {
		return nil, err
	}
	if !a.IsSample {
		return nil, notFound("sample")
	}
	v, err := s.vault(ctx)
	if err != nil {
		return nil, err
	}
	if !quarantine.ValidNonce(nonce) {
		nonce = quarantine.NewNonce()
	}
	return &SampleOffer{Attachment: a, Nonce: nonce, Password: v.Password(pr.Person.ID, a.ID, nonce)}, nil
}

// SampleExport is a sample packed for hand-over.
type SampleExport struct {
	Attachment *store.Attachment
	Filename   string // of the archive
	Archive    []byte // ZIP, WinZip AES-256
}

// ExportSample unseals a sample, checks it against its SHA-256 and packs
// it into an AES-256 ZIP archive under the offer's password. The person
// must have confirmed they understand it may be live malware. Every
// export is audited.
func (s *Service) ExportSample(ctx context.Context, pr *account.Principal, ip string, caseID, id int64, nonce string, understood bool) (*SampleExport, error) {
	if !understood {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "attachments.confirm_required", Fields: map[string]string{"understood": "attachment_confirm"}}
	}
	if !quarantine.ValidNonce(nonce) {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "attachments.offer_expired", Fields: map[string]string{"nonce": "invalid"}}
	}
	a, err := s.DB.AttachmentData(ctx, viewer(pr), caseID, id)
	if err != nil {
		return nil, err
	}
	if !a.IsSample {
		return nil, notFound("sample")
	}
	v, err := s.vault(ctx)
	if err != nil {
		return nil, err
	}
	if a.KeyID != v.KeyID() {
		return nil, fmt.Errorf("sample %d is sealed under key %s but this server has key %s: every server on one database needs the same --secret-key",
			a.ID, a.KeyID, v.KeyID())
	}
	plain, err := v.Open(a.Data, a.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sample %d: %w", a.ID, err)
	}
	a.Data = nil
	var buf bytes.Buffer
	z := quarantine.NewWriter(&buf, v.Password(pr.Person.ID, a.ID, nonce))
	if err := z.SetComment(ArchiveComment); err != nil {
		return nil, err
	}
	if err := z.Add(a.Filename, a.CreatedAt.In(kyoyu.JST), plain); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	if err := s.auditAttachmentRead(ctx, pr, ip, a, "sample-archive"); err != nil {
		return nil, err
	}
	return &SampleExport{Attachment: a, Filename: a.Filename + ".zip", Archive: buf.Bytes()}, nil
}

// ArchiveComment is shown by archive tools before they ask for the password.
const ArchiveComment = "QUARANTINED SAMPLE - may be live malware. Open only in an isolated analysis environment.\n" +
	"Kyoyu: the password was shown on the download page and is passed on separately."

// SanitiseFilename makes an uploaded name safe to keep, show and offer as
// a download name on any system: the last path element only; control and
// format characters (among them the right-to-left override that disguises
// "invoice‮fdp.exe") dropped or replaced; characters Windows forbids
// replaced; no leading or trailing dots or spaces; no device names; at
// most MaxFilename bytes with the extension kept.
func SanitiseFilename(name string) string {
	name = strings.ToValidUTF8(name, "_")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Cf, r):
			// invisible: dropped
		case unicode.IsControl(r), strings.ContainsRune(`<>:"|?*`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.Trim(b.String(), " .")
	if name == "" {
		return "attachment"
	}
	stem := name
	if i := strings.IndexByte(stem, '.'); i >= 0 {
		stem = stem[:i]
	}
	switch strings.ToUpper(strings.TrimSpace(stem)) {
	case "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		name = "_" + name
	}
	if len(name) <= MaxFilename {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > 20 {
		ext = ""
	}
	base := strings.TrimSuffix(name, ext)
	for len(base)+len(ext) > MaxFilename {
		_, size := utf8.DecodeLastRuneInString(base)
		base = base[:len(base)-size]
	}
	return base + ext
}

// cleanContentType keeps the declared media type for display, without
// parameters; anything unparsable is recorded as application/octet-stream.
func cleanContentType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || len(mt) > 100 {
		return "application/octet-stream"
	}
	return mt
}
