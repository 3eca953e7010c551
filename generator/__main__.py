import sys

from generator.tooling.entry import main

sys.exit(main())
