package main

import "github.com/edgeprivacy/edge/configs"

// didYouMean is "; did you mean X?" for the nearest of names, or "".
func didYouMean(got string, names []string) string {
	if s := configs.Nearest(got, names); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}
