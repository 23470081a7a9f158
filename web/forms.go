package web

import (
	"errors"
	"net/http"
	"net/url"

	"kyoyu"
)

// Form is what a re-rendered form needs: the values typed, kept so nobody
// types them twice, and the problem with each field as the domain named
// it (kyoyu.Error.Fields), shown next to the field in the page's language.
type Form struct {
	lang   string
	Values url.Values
	Fields map[string]string
}

func newForm(r *http.Request) Form {
	return Form{lang: language(r), Values: url.Values{}, Fields: map[string]string{}}
}

// Value is what was typed into a field.
func (f *Form) Value(name string) string { return f.Values.Get(name) }

// Checked reports whether a checkbox was ticked.
func (f *Form) Checked(name string) bool { return f.Values.Get(name) != "" }

// Error is the translated problem with a field, or "".
func (f *Form) Error(name string) string {
	if k := f.Fields[name]; k != "" {
		return T(f.lang, "field."+k)
	}
	return ""
}

// Invalid reports whether any field has a problem.
func (f *Form) Invalid() bool { return len(f.Fields) > 0 }

// formProblem returns the domain error and its HTTP status when err is
// about the input (EINVALID, or ECONFLICT such as a taken e-mail address),
// so the page can show the form again rather than an error page.
func formProblem(err error) (*kyoyu.Error, int, bool) {
	var ke *kyoyu.Error
	if !errors.As(err, &ke) || (ke.Code != kyoyu.EINVALID && ke.Code != kyoyu.ECONFLICT) {
		return nil, 0, false
	}
	return ke, errorStatus[ke.Code], true
}
