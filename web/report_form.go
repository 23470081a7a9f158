package web

// reportFormRoutes registers the pages that write reports.
func (h *Handler) reportFormRoutes() {}
