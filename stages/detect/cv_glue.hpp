// The rules the C++ detectors (cascade.cpp, hog.cpp, dnn.cpp) share for
// handing results back to Go. C++ only; not seen by cgo's Go files.
#ifndef EDGE_DETECT_CV_GLUE_HPP
#define EDGE_DETECT_CV_GLUE_HPP

#include <cstring>
#include <vector>

#include <opencv2/core.hpp>

// edge_set_err copies msg into the caller's buffer of errlen bytes,
// truncated and always NUL-terminated.
static inline void edge_set_err(char *err, int errlen, const char *msg) {
	std::strncpy(err, msg, errlen - 1);
	err[errlen - 1] = 0;
}

// edge_copy_rects writes at most max of rects into out (any struct with int
// x, y, w, h) and returns how many there are, possibly more than max.
template <typename Box> static int edge_copy_rects(const std::vector<cv::Rect> &rects, Box *out, int max) {
	int n = static_cast<int>(rects.size());
	for (int i = 0; i < n && i < max; i++) {
		out[i].x = rects[i].x;
		out[i].y = rects[i].y;
		out[i].w = rects[i].width;
		out[i].h = rects[i].height;
	}
	return n;
}

#endif
