"""Not a fault: answers honestly, but writes every line in three pieces, so a reply arrives over several reads."""
import sys
import time

from faultlib import run


class Dribble:
    def __init__(self, out):
        self.out = out

    def write(self, text):
        piece = max(1, len(text) // 3)
        for i in range(0, len(text), piece):
            self.out.write(text[i:i + piece])
            self.out.flush()
            time.sleep(0.0005)

    def flush(self):
        self.out.flush()


sys.stdout = Dribble(sys.stdout)
run(lambda msg, honest: None)
