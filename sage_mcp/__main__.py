from sage_mcp.cli import main

raise SystemExit(main())
