package outbox

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/store"
)

// Message is one e-mail, rendered for its recipient.
type Message struct {
	From      mail.Address // header and envelope sender
	To        mail.Address
	Subject   string
	Body      string
	MessageID string // stable per job: receivers can drop a resend
	Date      time.Time
}

// texts holds the e-mail wording per locale. The web's locale files are
// the UI's; these few lines are the outbox's own.
var texts = map[string]map[string]string{
	"ja": {
		"subject":                  "【Kyoyu】お知らせがあります",
		"subject.number":           "【Kyoyu】{event}（{case_number}）",
		"subject.event":            "【Kyoyu】{event}",
		"body.link_only":           "Kyoyu に新しいお知らせがあります。\r\n内容は次のリンクからサインインしてご確認ください。",
		"body.event":               "{event}。",
		"body.number":              "識別番号: {case_number}",
		"footer":                   "このメールは Kyoyu から自動で送信しています。返信はできません。",
		"notify.report_waiting":    "第{report_number}報の情報連絡が届いています",
		"notify.case_received":     "第{report_number}報が NISC に届きました",
		"notify.follow_up_overdue": "続報の期限を過ぎています",
		"notify.generic":           "新しいお知らせがあります",
		// The advisory's e-mail carries the single-use acknowledgement link:
		// opening it is the acknowledgement (受領確認).
		"notify.advisory_received":     "情報提供が届きました。受領確認をお願いします",
		"notify.advisory_updated":      "受け取った情報提供に続報があります",
		"notify.advisory_ack_reminder": "情報提供の受領確認がまだ済んでいません",
		"notify.advisory_inquiry":      "情報提供についての問合せに新しいメッセージがあります",
		"notify.consent_requested":     "事案の共有範囲の拡大について同意の依頼が届いています",
		"notify.consent_answered":      "共有範囲の拡大の依頼に回答がありました",
		"notify.partner_engaged":       "分析協力機関として事案の共有を受けました",
	},
	"en": {
		"subject":                      "[Kyoyu] You have a new notification",
		"subject.number":               "[Kyoyu] {event} ({case_number})",
		"subject.event":                "[Kyoyu] {event}",
		"body.link_only":               "You have a new notification in Kyoyu.\r\nSign in through the link below to read it.",
		"body.event":                   "{event}.",
		"body.number":                  "Case number: {case_number}",
		"footer":                       "This message was sent automatically by Kyoyu. Replies are not read.",
		"notify.report_waiting":        "Report {report_number} is waiting for you",
		"notify.case_received":         "Report {report_number} reached NISC",
		"notify.follow_up_overdue":     "A follow-up report is overdue",
		"notify.generic":               "You have a new notification",
		"notify.advisory_received":     "An advisory has arrived; please acknowledge it",
		"notify.advisory_updated":      "An advisory you received has a follow-up",
		"notify.advisory_ack_reminder": "An advisory is still waiting for your acknowledgement",
		"notify.advisory_inquiry":      "There is a new message in an inquiry about an advisory",
		"notify.consent_requested":     "You are asked to consent to widening a case's sharing range",
		"notify.consent_answered":      "Your request to widen a sharing range was answered",
		"notify.partner_engaged":       "A case was shared with you as an analysis partner",
	},
}

// text returns a locale's text with {params} filled in; Japanese when the
// locale is unknown.
func text(locale, key string, params map[string]string) string {
	t, ok := texts[locale]
	if !ok {
		t = texts["ja"]
	}
	s := t[key]
	for k, v := range params {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// linkOnly reports whether a range lets an e-mail say nothing but "there
// is something, here is the link": RED and AMBER (and anything unknown).
func linkOnly(tlp string) bool { return tlp != "green" && tlp != "white" }

// Render builds the e-mail telling a person about a notification. For a
// RED or AMBER item — or an unknown one — it carries the link and nothing
// else: not the event, not the case number. The link leads to the
// item, where the sharing-range rule decides again what the reader sees.
func Render(cfg kyoyu.Config, job *store.Job, p *kyoyu.Person, n *store.Notification, item store.OutboxItem, now time.Time) (*Message, error) {
	from, err := mail.ParseAddress(cfg.SMTPFrom)
	if err != nil {
		return nil, fmt.Errorf("sender %q: %w", cfg.SMTPFrom, err)
	}
	loc := p.Locale
	if _, ok := texts[loc]; !ok {
		loc = "ja"
	}
	link := cfg.BaseURL + n.Link
	params := map[string]string{"case_number": item.CaseNumber}
	var subject string
	// No greeting: the recipient's name is in To:, and a RED or AMBER
	// body holds nothing but the link.
	var body []string
	if linkOnly(item.TLP) {
		subject = text(loc, "subject", nil)
		body = append(body, text(loc, "body.link_only", nil))
	} else {
		key := n.Kind
		if _, ok := texts[loc][key]; !ok || !strings.HasPrefix(key, "notify.") {
			key = "notify.generic"
		}
		params["event"] = text(loc, key, n.Params)
		subject = text(loc, "subject.event", params)
		body = append(body, text(loc, "body.event", params))
		if item.CaseNumber != "" {
			subject = text(loc, "subject.number", params)
			body = append(body, text(loc, "body.number", params))
		}
	}
	body = append(body, "", link, "", "-- ", text(loc, "footer", nil), "")
	return &Message{
		From:      *from,
		To:        mail.Address{Name: p.Name, Address: p.Email},
		Subject:   subject,
		Body:      strings.Join(body, "\r\n"),
		MessageID: MessageID(cfg, job),
		Date:      now,
	}, nil
}

// MessageID is the Message-ID of a job's e-mail: the same on every attempt
// (a receiver, or a test, that sees it twice knows it is one message), and
// distinct across databases through the job's creation time.
func MessageID(cfg kyoyu.Config, job *store.Job) string {
	host := "kyoyu.invalid"
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" && !strings.Contains(u.Hostname(), ":") {
		host = u.Hostname()
	}
	return fmt.Sprintf("<kyoyu.job.%d.%d@%s>", job.ID, job.CreatedAt.UnixMilli(), host)
}

// Bytes is the message as sent: UTF-8 text, base64 so that any line
// survives any relay, headers encoded per RFC 2047.
func (m *Message) Bytes() []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", m.From.String())
	h("To", m.To.String())
	h("Subject", mime.BEncoding.Encode("UTF-8", m.Subject))
	h("Date", m.Date.In(kyoyu.JST).Format(time.RFC1123Z))
	h("Message-ID", m.MessageID)
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=UTF-8")
	h("Content-Transfer-Encoding", "base64")
	// RFC 3834: no out-of-office answers to a notification.
	h("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(m.Body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}
