#ifndef EDGE_DETECT_HOG_H
#define EDGE_DETECT_HOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct EdgeHOGBox {
	int x, y, w, h;
	double weight;
} EdgeHOGBox;

void *edge_hog_new(void);
void edge_hog_free(void *hog);
// edge_hog_detect runs the default people detector on img (a cv::Mat*) and
// writes at most max boxes to out. It returns the number of boxes found
// (possibly more than max), or -1 with a message in err (errlen bytes).
int edge_hog_detect(void *hog, void *img, double hit_threshold, int stride, int padding,
                    double scale, double final_threshold, EdgeHOGBox *out, int max,
                    char *err, int errlen);

#ifdef __cplusplus
}
#endif

#endif
