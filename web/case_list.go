package web

// caseRoutes registers the pages that read cases.
func (h *Handler) caseRoutes() {}
