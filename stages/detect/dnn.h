#ifndef EDGE_DETECT_DNN_H
#define EDGE_DETECT_DNN_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct EdgeDNNDet {
	int class_id;
	float score;
	float x0, y0, x1, y1; // normalised to the input picture
} EdgeDNNDet;

// edge_dnn_new loads a network; NULL with a message in err on failure.
void *edge_dnn_new(const char *model, const char *config, char *err, int errlen);
void edge_dnn_free(void *net);
// edge_dnn_detect runs an SSD-style network on img (a cv::Mat*) and writes
// at most max detections to out. It returns the number of detection rows
// (possibly more than max), or -1 with a message in err.
int edge_dnn_detect(void *net, void *img, double scale, int in_w, int in_h, double m0,
                    double m1, double m2, int swap_rb, EdgeDNNDet *out, int max, char *err,
                    int errlen);

#ifdef __cplusplus
}
#endif

#endif
