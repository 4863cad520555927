from mailpipe.cli import main

main()
