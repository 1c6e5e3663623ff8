#!/usr/bin/env python3
"""A real SMTP receiver on loopback for the mail tests (aiosmtpd, from PyPI).

Usage: receiver.py PORT DIR. Listens on 127.0.0.1:PORT, writes each message it accepts to
DIR/<random>.eml before answering 250 (so a sender that saw success finds the file), prints
"ready" once listening, and runs until killed or its standard input closes. The test that uses
it (tests/api/mail.rs, run when BORDERDESK_TEST_SMTP names this file) stops and restarts it.
"""
import os
import sys
import uuid

from aiosmtpd.controller import Controller


class Save:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.folder, uuid.uuid4().hex)
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        # Whole files only: a reader never sees half a message.
        os.rename(name + ".tmp", name + ".eml")
        return "250 OK"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    controller = Controller(Save(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
