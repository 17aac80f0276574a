#!/usr/bin/python3
"""A GStreamer RTSP server (gst-rtsp-server via python3-gi) for interop tests.

It stands in for a camera whose RTSP stack we did not write. It serves one
H.264 stream, either a live test pattern (the default) or a video file, on
127.0.0.1 and prints one line "READY rtsp://127.0.0.1:PORT/MOUNT" on stdout
once clients can connect. It runs until SIGINT or SIGTERM.

    scripts/gst-rtsp-server.py [--port 0] [--mount /test] [--file testvideos/vtest.mp4]
                               [--width 640 --height 480 --fps 15] [--shared]

Port 0 picks a free port; read the real one from the READY line.
The shebang names Debian's python3 on purpose: python3-gi is installed for it
(scripts/deps.sh), not for a pyenv or venv python earlier on PATH.
"""

import argparse
import signal
import sys

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer
except (ImportError, ValueError) as e:
    # Exit code 3 tells a test "not installed" apart from a crash.
    print(f"gst-rtsp-server: GStreamer RTSP server bindings missing ({e}); run scripts/deps.sh", file=sys.stderr)
    sys.exit(3)


def launch_line(args):
    if args.file:
        # config-interval=-1 repeats SPS/PPS before every IDR, like most cameras.
        return (
            f'( filesrc location="{args.file}" ! qtdemux ! h264parse '
            f"! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        )
    # The key-int-max keeps a keyframe every second so a client joins fast.
    return (
        f"( videotestsrc is-live=true ! video/x-raw,width={args.width},height={args.height},"
        f"framerate={args.fps}/1 ! x264enc tune=zerolatency speed-preset=ultrafast "
        f"key-int-max={args.fps} ! rtph264pay name=pay0 pt=96 )"
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 picks a free one")
    p.add_argument("--mount", default="/test", help="path of the stream, e.g. /test")
    p.add_argument("--file", help="serve this MP4 (H.264) instead of a test pattern")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--fps", type=int, default=15)
    p.add_argument("--shared", action="store_true", help="one pipeline for all clients, as a camera has one encoder")
    args = p.parse_args()
    mount = args.mount if args.mount.startswith("/") else "/" + args.mount

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(args))
    # One pipeline per client by default. With a shared pipeline, every PLAY
    # (gortsplib, ffmpeg and VLC all send "Range: npt=0-") makes the server
    # seek it, which restarts the RTP timestamps of clients already playing
    # and, with two PLAYs at once, can stall the pipeline. --shared shows it.
    factory.set_shared(args.shared)
    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        print(f"gst-rtsp-server: cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1

    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"READY rtsp://127.0.0.1:{server.get_bound_port()}{mount}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
