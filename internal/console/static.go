package console

import (
	"embed"
	"io/fs"
	"net/http"
)

// web holds the console's page, script and style: plain files, no build step.
//
//go:embed web
var web embed.FS

func (s *Server) static() http.Handler {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.FileServerFS(sub)
}
