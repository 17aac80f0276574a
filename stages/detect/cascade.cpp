#include <cstring>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "cascade.h"
#include "cv_glue.hpp"

// gocv's CascadeClassifier.Load lets OpenCV's exception for a malformed file
// abort the process; a bad detect.model must be a config error instead.

void *edge_cascade_new(const char *path, char *err, int errlen) {
	try {
		cv::CascadeClassifier *c = new cv::CascadeClassifier();
		if (!c->load(path) || c->empty()) {
			delete c;
			edge_set_err(err, errlen, "not an OpenCV cascade file");
			return nullptr;
		}
		return c;
	} catch (const std::exception &e) {
		edge_set_err(err, errlen, e.what());
		return nullptr;
	}
}

void edge_cascade_free(void *c) { delete static_cast<cv::CascadeClassifier *>(c); }

void edge_cascade_window(void *c, int *w, int *h) {
	cv::Size s = static_cast<cv::CascadeClassifier *>(c)->getOriginalWindowSize();
	*w = s.width;
	*h = s.height;
}

int edge_cascade_detect(void *c, void *img, double scale, int min_neighbors, EdgeRect *out,
                        int max, char *err, int errlen) {
	try {
		const cv::Mat &in = *static_cast<cv::Mat *>(img);
		cv::Mat grey;
		if (in.channels() == 1) {
			cv::equalizeHist(in, grey); // into a new Mat: the caller's is only read
		} else {
			cv::cvtColor(in, grey, cv::COLOR_BGR2GRAY);
			cv::equalizeHist(grey, grey);
		}
		std::vector<cv::Rect> rects;
		static_cast<cv::CascadeClassifier *>(c)->detectMultiScale(grey, rects, scale, min_neighbors);
		return edge_copy_rects(rects, out, max);
	} catch (const std::exception &e) {
		edge_set_err(err, errlen, e.what());
		return -1;
	}
}
