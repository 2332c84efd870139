; keyecho.asm — a boot disk for the monitor and QMP tests: the boot sector switches to
; 32-bit protected mode with paging, prints "keyecho ready" on COM1, then polls the
; 8042 forever (interrupts off) and prints every byte the keyboard sends as "k=XX".
; Memory the tests read back:
;   physical 0x13000: dword 0xCAFEF00D, then "dbt86 monitor test", 0
;   linear 0x00800000 maps to physical 0x13000 (page table at 0x12000, entry 0 has
;   the accessed bit clear: nothing in the guest touches that page);
;   linear 0x00801000 is not mapped; 0-4 MiB is identity-mapped.
; Build: nasm -f bin -o keyecho.img keyecho.asm.

bits 16
org 0x7c00

COM1 equ 0x3f8

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    cld
    ; the magic page
    mov ax, 0x1300
    mov es, ax
    xor di, di
    mov si, magic
    mov cx, magic_end - magic
    rep movsb
    ; page directory at 0x10000, page tables at 0x11000 and 0x12000
    mov ax, 0x1000
    mov es, ax
    xor di, di
    xor ax, ax
    mov cx, 3 * 4096 / 2
    rep stosw
    mov dword [es:0], 0x11003          ; PDE 0: 0-4 MiB
    mov dword [es:8], 0x12003          ; PDE 2: 8-12 MiB
    mov di, 0x1000
    mov eax, 3
    mov cx, 1024
.fill:
    mov [es:di], eax
    add eax, 0x1000
    add di, 4
    loop .fill
    mov dword [es:0x2000], 0x13003     ; linear 0x800000 -> physical 0x13000
    ; 8N1 on COM1
    mov dx, COM1 + 3
    mov al, 3
    out dx, al
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm32

bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, 0x7c00
    mov eax, 0x10000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov esi, msg_ready
    call puts
poll:
    in al, 0x64
    test al, 1
    jz poll
    in al, 0x60
    mov bl, al
    mov al, 'k'
    call putc
    mov al, '='
    call putc
    mov al, bl
    shr al, 4
    call puthex
    mov al, bl
    call puthex
    mov al, 10
    call putc
    jmp poll

puthex:
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe putc
    add al, 'a' - '0' - 10
putc:
    push edx
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff               ; 0x08: flat 32-bit code
    dq 0x00cf92000000ffff               ; 0x10: flat data
gdtr:
    dw gdtr - gdt - 1
    dd gdt

msg_ready: db "keyecho ready", 10, 0
magic:
    dd 0xcafef00d
    db "dbt86 monitor test", 0
magic_end:

times 510 - ($ - $$) db 0
dw 0xaa55
times 32768 - ($ - $$) db 0
