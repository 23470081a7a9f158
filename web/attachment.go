package web

// attachmentRoutes registers the attachment pages.
func (h *Handler) attachmentRoutes() {}
