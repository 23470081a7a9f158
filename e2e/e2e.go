// Package e2e drives the whole server through a real browser (Debian's
// chromium, headless) and, later, the adversarial sharing-range test over
// every surface. Its tests start the server in-process on a real database.
package e2e
