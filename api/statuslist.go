package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// statusListMediaType is the content type of a status list token
// (draft-ietf-oauth-status-list).
const statusListMediaType = "application/statuslist+cwt"

// getStatusList serves a signed status list token from memory, with
// caching headers: the ETag of the token, Last-Modified its issue time, and
// a max-age no longer than what is left of its ttl. A matching
// If-None-Match (or, without one, an If-Modified-Since not before the issue
// time) is 304.
func (s *Server) getStatusList(c *gin.Context) {
	raw := c.Param("list")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != raw {
		fail(c, newError(http.StatusNotFound, CodeNotFound, "no such status list"))
		return
	}
	t, ok := s.deps.StatusLists.StatusList(id)
	if !ok {
		fail(c, newError(http.StatusNotFound, CodeNotFound, "no such status list"))
		return
	}
	now := s.cfg.Now()
	maxAge := t.IssuedAt.Add(t.TTL).Sub(now)
	maxAge = min(max(maxAge, 0), t.TTL)
	h := c.Writer.Header()
	h.Set("ETag", t.ETag)
	h.Set("Last-Modified", t.IssuedAt.UTC().Format(http.TimeFormat))
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge/time.Second)))
	if notModified(c.Request, t.ETag, t.IssuedAt) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, statusListMediaType, t.Token)
}

// notModified applies If-None-Match (RFC 9110 §13.1.2, weak comparison)
// and, when there is none, If-Modified-Since.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
		return false
	}
	if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil {
		return !modified.Truncate(time.Second).After(ims)
	}
	return false
}
