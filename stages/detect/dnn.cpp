#include <cstring>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "dnn.h"

// gocv's ReadNet and Forward let OpenCV exceptions escape into cgo, which
// aborts the process; a bad model path or file must be an error instead.

static void set_err(char *err, int errlen, const char *msg) {
	std::strncpy(err, msg, errlen - 1);
	err[errlen - 1] = 0;
}

void *edge_dnn_new(const char *model, const char *config, char *err, int errlen) {
	try {
		cv::dnn::Net net = cv::dnn::readNet(model, config);
		if (net.empty()) {
			set_err(err, errlen, "OpenCV read an empty network");
			return nullptr;
		}
		return new cv::dnn::Net(net);
	} catch (const std::exception &e) {
		set_err(err, errlen, e.what());
		return nullptr;
	}
}

void edge_dnn_free(void *net) { delete static_cast<cv::dnn::Net *>(net); }

int edge_dnn_detect(void *netp, void *img, double scale, int in_w, int in_h, double m0,
                    double m1, double m2, int swap_rb, EdgeDNNDet *out, int max, char *err,
                    int errlen) {
	try {
		cv::dnn::Net *net = static_cast<cv::dnn::Net *>(netp);
		cv::Mat blob = cv::dnn::blobFromImage(*static_cast<cv::Mat *>(img), scale,
		                                      cv::Size(in_w, in_h), cv::Scalar(m0, m1, m2),
		                                      swap_rb != 0, false);
		net->setInput(blob);
		cv::Mat res = net->forward();
		// SSD DetectionOutput: [1, 1, N, 7] rows of
		// (image, class, score, x0, y0, x1, y1).
		if (res.dims != 4 || res.size[3] != 7 || res.type() != CV_32F) {
			set_err(err, errlen, "network output is not [1,1,N,7] float detections; use an SSD-style detector");
			return -1;
		}
		int n = res.size[2];
		const float *d = res.ptr<float>();
		for (int i = 0; i < n && i < max; i++) {
			const float *r = d + 7 * i;
			out[i].class_id = static_cast<int>(r[1]);
			out[i].score = r[2];
			out[i].x0 = r[3];
			out[i].y0 = r[4];
			out[i].x1 = r[5];
			out[i].y1 = r[6];
		}
		return n;
	} catch (const std::exception &e) {
		set_err(err, errlen, e.what());
		return -1;
	}
}
