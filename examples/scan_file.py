#!/usr/bin/env python3
"""scan_file.py - embedding gst-vyre in a Python (PyGObject) application.

    scan_file.py FILE PATTERNS-FILE

Builds "vyreurisrc ! vyrescan ! vyresink", prints vyre-progress, vyre-epoch
and the final vyre-summary from the bus.  Exit status 1 on a pipeline error
or when the GStreamer bindings are missing.
Needs python3-gi and gir1.2-gstreamer-1.0 (Debian).
"""
import sys

# A python3 without PyGObject (a virtualenv, another interpreter first on
# PATH) gets one line naming the packages, not a traceback.
try:
    import gi

    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst
except (ImportError, ValueError) as e:
    sys.exit(f"{sys.argv[0]}: cannot load GStreamer's Python bindings with "
             f"{sys.executable} ({e}). Fix: install them (Debian: apt-get "
             f"install python3-gi gir1.2-gstreamer-1.0), or run this script "
             f"with the python3 they are installed for, e.g. /usr/bin/python3.")


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} FILE PATTERNS-FILE", file=sys.stderr)
        return 2
    Gst.init(None)
    pipeline = Gst.parse_launch(
        "vyreurisrc name=src ! vyrescan name=scan ! "
        "vyresink name=sink print-summary=false message-interval=0")
    pipeline.get_by_name("src").set_property("location", argv[1])
    pipeline.get_by_name("scan").set_property("patterns-file", argv[2])
    loop = GLib.MainLoop()
    status = {"code": 0}

    def on_message(bus, msg):
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "vyre-progress":
                print(f"progress: {s.get_value('bytes')} bytes, "
                      f"{s.get_value('gbps'):.3f} GB/s")
            elif s.get_name() == "vyre-epoch":
                print(f"epoch: {s.get_value('epoch')}")
            elif s.get_name() == "vyre-summary":
                print(f"summary: bytes={s.get_value('bytes')} "
                      f"matches={s.get_value('matches')} "
                      f"dropped={s.get_value('dropped_matches')} "
                      f"crc32={s.get_value('crc32')} "
                      f"device={s.get_value('device')}")
        elif msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            print(f"error: {err.message}\n{dbg or ''}", file=sys.stderr)
            status["code"] = 1
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            loop.quit()
        return True

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        msg = bus.pop_filtered(Gst.MessageType.ERROR)
        if msg:
            on_message(bus, msg)
        status["code"] = 1
    else:
        loop.run()
    print(f"completed buffers: "
          f"{pipeline.get_by_name('sink').get_property('completed')}")
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    return status["code"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
