from localise.cli import main

main()
