package detect_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// A tiny hand encoder of the ONNX protobuf (onnx.proto3, the fields used
// here), so that tests can build networks with known outputs: no weights can
// be downloaded on the device, and none ship.

type pb []byte

func (b pb) key(field, wire int) pb { return binary.AppendUvarint(b, uint64(field<<3|wire)) }
func (b pb) varint(field int, v int64) pb {
	return binary.AppendUvarint(b.key(field, 0), uint64(v))
}
func (b pb) bytes(field int, v []byte) pb {
	b = binary.AppendUvarint(b.key(field, 2), uint64(len(v)))
	return append(b, v...)
}
func (b pb) str(field int, s string) pb { return b.bytes(field, []byte(s)) }

const (
	onnxFloat = 1 // TensorProto.DataType FLOAT
	onnxInt64 = 7 // INT64
	attrInts  = 7 // AttributeProto.AttributeType INTS
)

func onnxTensor(name string, dims []int64, dataType int, raw []byte) []byte {
	var t pb
	for _, d := range dims {
		t = t.varint(1, d)
	}
	return t.varint(2, int64(dataType)).str(8, name).bytes(9, raw)
}

func floatsRaw(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

func int64sRaw(v []int64) []byte {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

func onnxValueInfo(name string, dims []int64) []byte {
	var shape pb
	for _, d := range dims {
		shape = shape.bytes(1, pb(nil).varint(1, d))
	}
	tensor := pb(nil).varint(1, onnxFloat).bytes(2, shape)
	return pb(nil).str(1, name).bytes(2, pb(nil).bytes(1, tensor))
}

func onnxNode(op string, in, out []string, attrs ...[]byte) []byte {
	var n pb
	for _, s := range in {
		n = n.str(1, s)
	}
	for _, s := range out {
		n = n.str(2, s)
	}
	n = n.str(3, op+"_"+out[0]).str(4, op)
	for _, a := range attrs {
		n = n.bytes(5, a)
	}
	return n
}

func onnxInts(name string, v ...int64) []byte {
	a := pb(nil).str(1, name)
	for _, x := range v {
		a = a.varint(8, x)
	}
	return a.varint(20, attrInts)
}

// fixedOutputModel writes an ONNX model (opset 12, static shapes) taking a
// [1, 3, h, w] picture and giving out of shape outShape: each value is
// bias[i] plus weights[i] (by channel) times the channel's mean over the
// picture as the network sees it (scaled, swapped, letterboxed). The graph is
// GlobalAveragePool -> 1x1 Conv -> Reshape, which OpenCV 4.6 imports.
func fixedOutputModel(t *testing.T, w, h int, outShape []int64, bias []float32, weights map[int][3]float32) string {
	t.Helper()
	k := int64(len(bias))
	n := int64(1)
	for _, d := range outShape {
		n *= d
	}
	if n != k {
		t.Fatalf("bias holds %d values, shape %v wants %d", k, outShape, n)
	}
	wts := make([]float32, 3*k)
	for i, c := range weights {
		copy(wts[3*i:3*i+3], c[:])
	}
	var g pb
	g = g.bytes(1, onnxNode("GlobalAveragePool", []string{"input"}, []string{"pooled"}))
	g = g.bytes(1, onnxNode("Conv", []string{"pooled", "W", "B"}, []string{"conv"}, onnxInts("kernel_shape", 1, 1)))
	g = g.bytes(1, onnxNode("Reshape", []string{"conv", "shape"}, []string{"output"}))
	g = g.str(2, "fixed")
	g = g.bytes(5, onnxTensor("W", []int64{k, 3, 1, 1}, onnxFloat, floatsRaw(wts)))
	g = g.bytes(5, onnxTensor("B", []int64{k}, onnxFloat, floatsRaw(bias)))
	g = g.bytes(5, onnxTensor("shape", []int64{int64(len(outShape))}, onnxInt64, int64sRaw(outShape)))
	g = g.bytes(11, onnxValueInfo("input", []int64{1, 3, int64(h), int64(w)}))
	g = g.bytes(12, onnxValueInfo("output", outShape))
	m := pb(nil).varint(1, 7).str(2, "edge-test").bytes(7, g).bytes(8, pb(nil).str(1, "").varint(2, 12))
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, m, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
