#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "dnn.h"
#include "cv_glue.hpp"

// gocv's ReadNet and Forward let OpenCV exceptions escape into cgo, which
// aborts the process; a bad model path or file must be an error instead.
// The output is decoded in Go (dnn_decode.go), where it is tested.

void *edge_dnn_new(const char *model, const char *config, char *err, int errlen) {
	try {
		cv::dnn::Net net = cv::dnn::readNet(model, config);
		if (net.empty()) {
			edge_set_err(err, errlen, "OpenCV read an empty network");
			return nullptr;
		}
		return new cv::dnn::Net(net);
	} catch (const std::exception &e) {
		edge_set_err(err, errlen, e.what());
		return nullptr;
	}
}

void edge_dnn_free(void *net) { delete static_cast<cv::dnn::Net *>(net); }

void edge_dnn_release(void *keep) { delete static_cast<cv::Mat *>(keep); }

int edge_dnn_forward(void *netp, void *imgp, double scale, int in_w, int in_h, double m0, double m1,
                     double m2, int swap_rb, int letterbox, EdgeDNNOut *out, char *err, int errlen) {
	try {
		cv::dnn::Net *net = static_cast<cv::dnn::Net *>(netp);
		const cv::Mat &img = *static_cast<cv::Mat *>(imgp);
		cv::Mat in = img;
		if (letterbox != 0) {
			// The same ratio as Go's letterboxRatio, so boxes map back exactly.
			double r = std::min(double(in_w) / img.cols, double(in_h) / img.rows);
			int w = std::max(1, std::min(in_w, int(std::lround(img.cols * r))));
			int h = std::max(1, std::min(in_h, int(std::lround(img.rows * r))));
			cv::Mat scaled;
			cv::resize(img, scaled, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
			cv::copyMakeBorder(scaled, in, 0, in_h - h, 0, in_w - w, cv::BORDER_CONSTANT,
			                   cv::Scalar(114, 114, 114));
		}
		cv::Mat blob = cv::dnn::blobFromImage(in, scale, cv::Size(in_w, in_h),
		                                      cv::Scalar(m0, m1, m2), swap_rb != 0, false);
		net->setInput(blob);
		cv::Mat res = net->forward();
		if (res.type() != CV_32F || !res.isContinuous()) {
			edge_set_err(err, errlen, "network output is not a continuous float tensor");
			return -1;
		}
		if (res.dims > 6) {
			edge_set_err(err, errlen, "network output has more than 6 dimensions");
			return -1;
		}
		cv::Mat *keep = new cv::Mat(res);
		out->data = keep->ptr<float>();
		out->dims = keep->dims;
		for (int i = 0; i < keep->dims; i++) {
			out->size[i] = keep->size[i];
		}
		out->total = static_cast<long long>(keep->total());
		out->keep = keep;
		return 0;
	} catch (const std::exception &e) {
		edge_set_err(err, errlen, e.what());
		return -1;
	}
}
