package infer

import (
	"path"
	"strings"
)

// StaticAsset reports whether an operation serves the files of a web
// page (stylesheets, scripts, fonts, icons and images named as files)
// rather than an API: a GET or HEAD whose every response body seen was of
// such a media type. Web UIs fetch many of them beside the API they
// call; listed as API operations they would fill exported specs and make
// a shadow finding of every bundle and font. HTML is never counted as an
// asset (an API can answer with HTML: a rendered message, a login page),
// nor is an image whose path does not end in an image file name (a
// thumbnail or avatar endpoint is API).
//
// Static assets stay in the inventory (EndpointSummary.Static): they are
// left out of exported specs unless ExportOptions.IncludeStatic, and are
// never reported as shadow.
func StaticAsset(method, template string, op *Operation) bool {
	if method != "GET" && method != "HEAD" {
		return false
	}
	seen := false
	for _, r := range op.Responses {
		for mt := range r.Bodies {
			if !assetMediaType(mt, template) {
				return false
			}
			seen = true
		}
	}
	return seen
}

// assetMediaType reports whether a response body of media type mt at
// template is a web page's file.
func assetMediaType(mt, template string) bool {
	mt = strings.ToLower(mt)
	switch {
	case mt == "text/css", strings.HasSuffix(mt, "/javascript"), mt == "application/x-javascript",
		mt == "application/ecmascript", mt == "text/ecmascript", mt == "application/wasm",
		strings.HasPrefix(mt, "font/"), strings.HasPrefix(mt, "application/font-"),
		strings.HasPrefix(mt, "application/x-font-"), mt == "application/vnd.ms-fontobject",
		mt == "image/x-icon", mt == "image/vnd.microsoft.icon":
		return true
	case strings.HasPrefix(mt, "image/"):
		switch strings.ToLower(path.Ext(template)) {
		case ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico", ".bmp":
			return true
		}
	case mt == "application/json":
		// Source maps are JSON named as a script's map.
		return strings.HasSuffix(strings.ToLower(template), ".map")
	}
	return false
}
