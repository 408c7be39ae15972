# Compiler cache, fast linker, warnings and sanitizers shared by every target.
find_program(GRANSKA_CCACHE ccache)
if(GRANSKA_CCACHE)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${GRANSKA_CCACHE}")
endif()

find_program(GRANSKA_MOLD mold)
find_program(GRANSKA_LLD ld.lld)
if(GRANSKA_MOLD)
    add_link_options(-fuse-ld=mold)
elseif(GRANSKA_LLD)
    add_link_options(-fuse-ld=lld)
endif()

add_library(granska_warnings INTERFACE)
target_compile_options(granska_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                                  -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
                                                  -Wno-missing-field-initializers)

if(GRANSKA_SANITIZERS)
    add_compile_options(-fsanitize=${GRANSKA_SANITIZERS} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${GRANSKA_SANITIZERS})
endif()
