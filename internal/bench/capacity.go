package bench

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"syscall"
	"time"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// decodeMaskCapacity decodes and masks every frame of the clip (the bench's
// privacy zone) on one thread as fast as it goes, the way `ffmpeg -threads 1`
// decodes it: the frame path's own speed, which the live run cannot show
// because its cameras are paced in real time. It returns frames per second
// of wall time and per second of the thread's CPU time; the clip is run at
// least once and for at least a second.
func decodeMaskCapacity(ctx context.Context, clip string) (wallFPS, cpuFPS float64, err error) {
	runtime.LockOSThread() // the thread's CPU time is the figure
	defer runtime.UnlockOSThread()
	set := zones.NewSet([]zones.Zone{{ID: "private", Kind: zones.Privacy,
		Polygon: zones.Polygon{{X: 0, Y: 0}, {X: 0.25, Y: 0}, {X: 0.25, Y: 1}, {X: 0, Y: 1}}}}, nil)
	quiet := slog.New(slog.DiscardHandler)
	frames := 0
	var wall, cpu time.Duration
	for wall < time.Second {
		dec, err := decode.New(decode.Config{Threads: 1, Logger: quiet})
		if err != nil {
			return 0, 0, err
		}
		ms, err := mask.New(mask.Config{Zones: set, Logger: quiet})
		if err != nil {
			dec.Close()
			return 0, 0, err
		}
		n := 0
		apply := func(fs []decode.Frame) error {
			for i, f := range fs {
				m, err := ms.Apply(f)
				if err != nil {
					for _, g := range fs[i+1:] {
						g.Close()
					}
					return err
				}
				m.Close()
				n++
			}
			return nil
		}
		c0, t0 := threadCPU(), time.Now()
		err = mediafile.ReadFile(ctx, clip, func(au media.AccessUnit) error {
			fs, err := dec.DecodeAU(au)
			if aerr := apply(fs); aerr != nil {
				return aerr
			}
			return err
		})
		if err == nil {
			var fs []decode.Frame
			fs, err = dec.Flush()
			if aerr := apply(fs); aerr != nil {
				err = aerr
			}
		}
		wall += time.Since(t0)
		cpu += threadCPU() - c0
		dec.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("bench: decode and mask %s: %w", clip, err)
		}
		if n == 0 {
			return 0, 0, fmt.Errorf("bench: decoded no frame of %s", clip)
		}
		frames += n
	}
	wallFPS = float64(frames) / wall.Seconds()
	if cpu > 0 {
		cpuFPS = float64(frames) / cpu.Seconds()
	}
	return wallFPS, cpuFPS, nil
}

// threadCPU is the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
