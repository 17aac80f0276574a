#ifndef EDGE_DETECT_DNN_H
#define EDGE_DETECT_DNN_H

#ifdef __cplusplus
extern "C" {
#endif

// EdgeDNNOut is a network's first output, valid until edge_dnn_release(keep).
typedef struct EdgeDNNOut {
	const float *data;
	int dims;
	int size[6];
	long long total;
	void *keep; // the cv::Mat holding data
} EdgeDNNOut;

// edge_dnn_new loads a network; NULL with a message in err on failure.
void *edge_dnn_new(const char *model, const char *config, char *err, int errlen);
void edge_dnn_free(void *net);
// edge_dnn_forward runs the network on img (a cv::Mat*): scaled to in_w x
// in_h, or with letterbox != 0 scaled keeping its aspect into the top-left
// corner and padded with grey (114). 0, or -1 with a message in err.
int edge_dnn_forward(void *net, void *img, double scale, int in_w, int in_h, double m0, double m1,
                     double m2, int swap_rb, int letterbox, EdgeDNNOut *out, char *err, int errlen);
// edge_dnn_release frees an output of edge_dnn_forward.
void edge_dnn_release(void *keep);

#ifdef __cplusplus
}
#endif

#endif
