// Package zones holds the geometry of a camera's zones: polygons in
// normalised frame coordinates, their conservative rasterisation to pixel
// masks (cached per frame size), the registered signage that permits
// analysis in a monitored zone, and the assignment of points to zones.
//
// Coordinates are normalised (0..1 of the frame's width and height) so that
// one zone drawn once maps to every stream of a camera, whatever its size.
package zones
