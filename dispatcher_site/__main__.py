from dispatcher_site.cli import main

main()
