#!/usr/bin/python3
# hello-watch.py: the README's Python example. Prints the first event of a watch.
import gi
gi.require_version("Xlev", "1.0")
from gi.repository import GLib, Xlev

loop = GLib.MainLoop()
ctx = Xlev.Context.new(None, None)
watch = ctx.watch("/local/domain", Xlev.WatchFlags.NONE)
watch.connect("changed", lambda w, path: (print("changed:", path), loop.quit()))
loop.run()
