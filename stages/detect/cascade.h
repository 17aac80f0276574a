#ifndef EDGE_DETECT_CASCADE_H
#define EDGE_DETECT_CASCADE_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct EdgeRect {
	int x, y, w, h;
} EdgeRect;

// edge_cascade_new loads a cascade file; NULL with a message in err on failure.
void *edge_cascade_new(const char *path, char *err, int errlen);
void edge_cascade_free(void *c);
// edge_cascade_window writes the cascade's detection window size.
void edge_cascade_window(void *c, int *w, int *h);
// edge_cascade_detect runs the cascade on img (a BGR cv::Mat*) and writes at
// most max boxes to out. It returns the number found (possibly more than
// max), or -1 with a message in err.
int edge_cascade_detect(void *c, void *img, double scale, int min_neighbors, EdgeRect *out,
                        int max, char *err, int errlen);

#ifdef __cplusplus
}
#endif

#endif
