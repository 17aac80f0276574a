#include <cstring>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/objdetect.hpp>

#include "hog.h"
#include "cv_glue.hpp"

void *edge_hog_new(void) {
	try {
		cv::HOGDescriptor *h = new cv::HOGDescriptor();
		h->setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
		return h;
	} catch (...) {
		return nullptr;
	}
}

void edge_hog_free(void *hog) { delete static_cast<cv::HOGDescriptor *>(hog); }

int edge_hog_detect(void *hog, void *img, double hit_threshold, int stride, int padding,
                    double scale, double final_threshold, EdgeHOGBox *out, int max,
                    char *err, int errlen) {
	try {
		std::vector<cv::Rect> rects;
		std::vector<double> weights;
		// The overload with weights is the one gocv v0.31 does not wrap; after
		// grouping each weight is the best SVM margin of its cluster.
		static_cast<cv::HOGDescriptor *>(hog)->detectMultiScale(
		    *static_cast<cv::Mat *>(img), rects, weights, hit_threshold, cv::Size(stride, stride),
		    cv::Size(padding, padding), scale, final_threshold, false);
		int n = edge_copy_rects(rects, out, max);
		for (int i = 0; i < n && i < max; i++) {
			out[i].weight = i < static_cast<int>(weights.size()) ? weights[i] : 0;
		}
		return n;
	} catch (const std::exception &e) {
		edge_set_err(err, errlen, e.what());
		return -1;
	}
}
